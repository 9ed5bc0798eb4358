// Tests of the float16/bfloat16 conversions and Q8_0 quantisation.
import { describe, expect, it } from "vitest";
import {
  bf16BitsToF32,
  bf16BytesToF32,
  dequantizeQ8_0,
  f16BitsToF32,
  f16BytesToF32,
  f32ToF16Bits,
  f32ToF16Bytes,
  Q8_0_BLOCK_BYTES,
  quantizeQ8_0,
  roundToF16,
} from "./numeric.js";

/** A tiny seeded generator (LCG) of floats in [0, 1). */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

describe("float16", () => {
  it("encodes known values, rounding to nearest even", () => {
    const cases: [number, number][] = [
      [0, 0x0000],
      [-0, 0x8000],
      [1, 0x3c00],
      [-2, 0xc000],
      [0.1, 0x2e66],
      [1 / 3, 0x3555],
      [65504, 0x7bff],
      [65519, 0x7bff],
      [65520, 0x7c00], // halfway to the next (non-existent) value: rounds up to infinity
      [1e6, 0x7c00],
      [-1e6, 0xfc00],
      [Number.POSITIVE_INFINITY, 0x7c00],
      [Number.NEGATIVE_INFINITY, 0xfc00],
      [1 + 2 ** -11, 0x3c00], // tie, rounds down to even
      [1 + 3 * 2 ** -11, 0x3c02], // tie, rounds up to even
      [2 ** -14, 0x0400], // smallest normal
      [2 ** -24, 0x0001], // smallest subnormal
      [2 ** -25, 0x0000], // tie between 0 and the smallest subnormal: even is 0
      [3 * 2 ** -25, 0x0002], // tie between 1 and 2 subnormal units: even is 2
      [2 ** -25 * (1 + 2 ** -20), 0x0001],
      [1023 * 2 ** -24, 0x03ff], // largest subnormal
      [1023.5 * 2 ** -24, 0x0400], // tie rounds up into the normals
      [-(2 ** -24), 0x8001],
      [1e-10, 0x0000],
      [-1e-10, 0x8000],
    ];
    for (const [x, h] of cases) expect([x, f32ToF16Bits(x)]).toEqual([x, h]);
  });

  it("keeps NaN as NaN", () => {
    const h = f32ToF16Bits(Number.NaN);
    expect(h & 0x7c00).toBe(0x7c00);
    expect(h & 0x3ff).not.toBe(0);
    expect(f16BitsToF32(h)).toBeNaN();
  });

  it("decodes every float16 and encodes it back to the same bits", () => {
    for (let h = 0; h < 0x10000; h++) {
      const x = f16BitsToF32(h);
      if (Number.isNaN(x)) continue;
      if (f32ToF16Bits(x) !== h) expect([h, f32ToF16Bits(x)]).toEqual([h, h]);
    }
    expect(f16BitsToF32(0x3c00)).toBe(1);
    expect(f16BitsToF32(0x0001)).toBe(2 ** -24);
    expect(Object.is(f16BitsToF32(0x8000), -0)).toBe(true);
  });

  it("rounds random values to the nearest float16 (ties to even)", () => {
    const rand = lcg(42);
    for (let i = 0; i < 20000; i++) {
      const x = Math.fround((rand() - 0.5) * 2 ** Math.floor(rand() * 44 - 28));
      const h = f32ToF16Bits(x);
      const err = Math.abs(f16BitsToF32(h) - x);
      for (const n of [h - 1, h + 1]) {
        if ((n & 0x7fff) >= 0x7c00 || n < 0 || (n & 0x8000) !== (h & 0x8000)) continue;
        const other = Math.abs(f16BitsToF32(n) - x);
        expect(err <= other).toBe(true);
        if (err === other) expect(h & 1).toBe(0);
      }
    }
  });

  it("converts arrays to and from little-endian bytes", () => {
    const src = new Float32Array([1, -2, 0.1, 65504, 1e-7]);
    const bytes = f32ToF16Bytes(src);
    expect([...bytes.subarray(0, 4)]).toEqual([0x00, 0x3c, 0x00, 0xc0]);
    expect(f16BytesToF32(bytes)).toEqual(roundToF16(src));
    expect([...roundToF16([1, 0.1])]).toEqual([1, f16BitsToF32(0x2e66)]);
  });
});

describe("bfloat16", () => {
  it("decodes bits and bytes", () => {
    expect(bf16BitsToF32(0x3f80)).toBe(1);
    expect(bf16BitsToF32(0xc000)).toBe(-2);
    expect(bf16BitsToF32(0x7f80)).toBe(Number.POSITIVE_INFINITY);
    expect(bf16BitsToF32(0x7fc0)).toBeNaN();
    expect([...bf16BytesToF32(new Uint8Array([0x80, 0x3f, 0x49, 0x40]))]).toEqual([1, Math.fround(3.140625)]);
  });
});

describe("Q8_0", () => {
  it("stores a float16 scale and 32 int8 values per block", () => {
    const src = new Float32Array(64).map((_, i) => (i < 32 ? i - 16 : 0));
    const bytes = quantizeQ8_0(src);
    expect(bytes.length).toBe(2 * Q8_0_BLOCK_BYTES);
    const dBits = (bytes[0] ?? 0) | ((bytes[1] ?? 0) << 8);
    expect(dBits).toBe(f32ToF16Bits(16 / 127));
    expect(new Int8Array(bytes.buffer, 2, 32)[0]).toBe(-127); // -16 is the largest magnitude
    expect([...bytes.subarray(Q8_0_BLOCK_BYTES)].every((b) => b === 0)).toBe(true); // zero block
    expect([...dequantizeQ8_0(bytes).subarray(32)].every((v) => v === 0)).toBe(true);
  });

  it("round trips within half a quantisation step", () => {
    const rand = lcg(7);
    const src = new Float32Array(32 * 50).map((_, i) => (rand() - 0.5) * 10 ** (((i >> 5) % 5) - 1));
    const out = dequantizeQ8_0(quantizeQ8_0(src));
    for (let b = 0; b < 50; b++) {
      const block = src.subarray(b * 32, b * 32 + 32);
      const amax = Math.max(...block.map(Math.abs));
      // d is rounded to float16 (normal range here), so the bound carries a relative 2^-11 slack.
      const bound = (amax / 254) * (1 + 2 ** -10);
      for (let i = 0; i < 32; i++)
        expect(Math.abs((out[b * 32 + i] ?? 0) - (block[i] ?? 0))).toBeLessThanOrEqual(bound);
    }
  });

  it("rejects bad input", () => {
    expect(() => quantizeQ8_0(new Float32Array(31))).toThrow(/multiple of 32/);
    expect(() => quantizeQ8_0(new Float32Array(32).fill(Number.NaN))).toThrow(/cannot encode NaN/);
    expect(() => quantizeQ8_0(new Float32Array(32).fill(1e9))).toThrow(/too large/);
    expect(() => dequantizeQ8_0(new Uint8Array(33))).toThrow(/multiple of 34/);
  });
});
