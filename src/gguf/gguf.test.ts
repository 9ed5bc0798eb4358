// Tests of the GGUF writer and reader: exact round trips, alignment, and clear errors on damaged files.
import { mkdtemp, readFile, rm, stat, truncate, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CaiError } from "../errors/cai-error.js";
import {
  dequantizeQ8_0,
  GgufFormatError,
  type GgufValue,
  gguf,
  openGguf,
  quantizeQ8_0,
  roundToF16,
  UnsupportedTensorTypeError,
  writeGguf,
} from "./index.js";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "cai-gguf-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Seeded values in roughly [-scale, scale] from a tiny LCG. */
function seeded(n: number, seed: number, scale = 1): Float32Array {
  let s = seed >>> 0;
  return new Float32Array(n).map(() => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s / 2 ** 31 - 1) * scale;
  });
}

/** Builds GGUF bytes by hand (little-endian), for files the writer would refuse to produce. */
class Bytes {
  private parts: number[] = [];
  u8(...v: number[]): this {
    this.parts.push(...v);
    return this;
  }
  u32(v: number): this {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(v);
    return this.u8(...b);
  }
  u64(v: bigint | number): this {
    const b = Buffer.alloc(8);
    b.writeBigUInt64LE(BigInt(v));
    return this.u8(...b);
  }
  str(s: string): this {
    const b = Buffer.from(s, "utf8");
    return this.u64(b.length).u8(...b);
  }
  padTo(alignment: number): this {
    while (this.parts.length % alignment !== 0) this.parts.push(0);
    return this;
  }
  build(): Uint8Array {
    return Uint8Array.from(this.parts);
  }
}

function ggufHeader(tensors: number | bigint, kvs: number | bigint): Bytes {
  return new Bytes().u8(0x47, 0x47, 0x55, 0x46).u32(3).u64(tensors).u64(kvs);
}

async function put(name: string, bytes: Uint8Array): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, bytes);
  return path;
}

/** Expects opening `path` to fail with a GgufFormatError whose message names the file and matches `pattern`. */
async function expectFormatError(path: string, pattern: RegExp): Promise<GgufFormatError> {
  const error: unknown = await openGguf(path).then(
    async (f) => {
      await f.close();
      return undefined;
    },
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(GgufFormatError);
  const e = error as GgufFormatError;
  expect(e.name).toBe("GgufFormatError");
  expect(GgufFormatError.isInstance(e) && CaiError.isInstance(e)).toBe(true);
  expect(e.filePath).toBe(path);
  expect(e.message).toContain(path);
  expect(e.message).toMatch(pattern);
  return e;
}

const nested: GgufValue = gguf.arrayArray([
  gguf.u8Array([1, 2, 255]),
  gguf.strArray(["a", "ü"]),
  gguf.arrayArray([gguf.i64Array([-1n]), gguf.boolArray([])]),
  gguf.f64Array([]),
]);

const allTypes: [string, GgufValue][] = [
  ["general.architecture", gguf.str("llama")],
  ["t.u8", gguf.u8(255)],
  ["t.i8", gguf.i8(-128)],
  ["t.u16", gguf.u16(65535)],
  ["t.i16", gguf.i16(-32768)],
  ["t.u32", gguf.u32(4294967295)],
  ["t.i32", gguf.i32(-2147483648)],
  ["t.f32", gguf.f32(1e-5)],
  ["t.f32.nan", gguf.f32(Number.NaN)],
  ["t.f64", gguf.f64(Math.PI)],
  ["t.f64.negzero", gguf.f64(-0)],
  ["t.u64", gguf.u64(2n ** 64n - 1n)],
  ["t.i64", gguf.i64(-(2n ** 63n))],
  ["t.bool.true", gguf.bool(true)],
  ["t.bool.false", gguf.bool(false)],
  ["t.string.unicode", gguf.str("héllo ✓ 🦙 中文\n\0end")],
  ["t.string.empty", gguf.str("")],
  ["ключ.🔑", gguf.str("unicode key")],
  ["t.arr.u8", gguf.u8Array([0, 1, 255])],
  ["t.arr.i8", gguf.i8Array([-128, 127])],
  ["t.arr.u16", gguf.u16Array([65535])],
  ["t.arr.i16", gguf.i16Array([-32768, 1])],
  ["t.arr.u32", gguf.u32Array([0, 4294967295])],
  ["t.arr.i32", gguf.i32Array(new Int32Array([-5, 6]))],
  ["t.arr.f32", gguf.f32Array(new Float32Array([0.1, -2.5, Number.POSITIVE_INFINITY]))],
  ["t.arr.f32.numbers", gguf.f32Array([0.1, 1e-5])],
  ["t.arr.f64", gguf.f64Array([0.1, -0])],
  ["t.arr.u64", gguf.u64Array([0n, 2n ** 64n - 1n, 7])],
  ["t.arr.i64", gguf.i64Array([-(2n ** 63n), 2n ** 63n - 1n])],
  ["t.arr.bool", gguf.boolArray([true, false, true])],
  ["t.arr.string", gguf.strArray(["<s>", "", "🦙", "a b"])],
  ["t.arr.empty", gguf.strArray([])],
  ["t.arr.nested", nested],
];

describe("writeGguf → openGguf round trip", () => {
  const f32 = seeded(7 * 3, 1, 3);
  const f16 = seeded(16 * 4, 2, 100);
  const q8 = seeded(64 * 3, 3, 0.5);
  const tensors = () => [
    { name: "a.f32", shape: [7, 3], type: "F32" as const, data: f32 },
    { name: "b.f16", shape: [16, 4], type: "F16" as const, data: () => f16 },
    { name: "c.q8_0", shape: [64, 3], type: "Q8_0" as const, data: async () => q8 },
    { name: "d.scalar", shape: [1], type: "F32" as const, data: new Float32Array([42]) },
  ];

  for (const alignment of [undefined, 64, 1]) {
    it(`is exact for all metadata types and tensors (alignment ${alignment ?? "default"})`, async () => {
      const path = join(dir, `round-${alignment}.gguf`);
      await writeGguf(path, { metadata: allTypes, tensors: tensors(), alignment });
      await expect(stat(`${path}.tmp`)).rejects.toThrow();
      const file = await openGguf(path);
      try {
        const expected =
          alignment === undefined ? allTypes : [...allTypes, ["general.alignment", gguf.u32(alignment)]];
        expect([...file.metadata]).toEqual(expected);
        expect(file.version).toBe(3);
        expect(file.alignment).toBe(alignment ?? 32);
        expect(file.metadataValue("t.arr.nested")).toEqual([[1, 2, 255], ["a", "ü"], [[-1n], []], []]);
        expect(file.metadataValue("t.u64")).toBe(2n ** 64n - 1n);
        expect(file.metadataValue("missing")).toBeUndefined();

        expect(file.tensors.map((t) => [t.name, t.typeName, t.shape, t.byteSize])).toEqual([
          ["a.f32", "F32", [7, 3], 84],
          ["b.f16", "F16", [16, 4], 128],
          ["c.q8_0", "Q8_0", [64, 3], 6 * 34],
          ["d.scalar", "F32", [1], 4],
        ]);
        for (const t of file.tensors) {
          expect(t.dataOffset % file.alignment).toBe(0);
          expect(t.dataOffset).toBe(file.dataOffset + t.offset);
        }
        expect(file.dataOffset % file.alignment).toBe(0);

        const readF32 = await file.readTensor("a.f32");
        expect(new Uint32Array(readF32.buffer)).toEqual(new Uint32Array(f32.buffer)); // bit-exact
        expect(await file.readTensor("b.f16")).toEqual(roundToF16(f16));
        const readQ8 = await file.readTensor("c.q8_0");
        expect(readQ8).toEqual(dequantizeQ8_0(quantizeQ8_0(q8)));
        for (let b = 0; b < q8.length / 32; b++) {
          const block = q8.subarray(b * 32, b * 32 + 32);
          const bound = (Math.max(...block.map(Math.abs)) / 254) * (1 + 2 ** -10); // f16-rounded scale
          for (let i = 0; i < 32; i++) {
            expect(Math.abs((readQ8[b * 32 + i] ?? 0) - (block[i] ?? 0))).toBeLessThanOrEqual(bound);
          }
        }
        expect([...(await file.readTensor("d.scalar"))]).toEqual([42]);
        expect(await file.readTensorBytes("a.f32")).toEqual(new Uint8Array(f32.buffer));
        await expect(file.readTensor("nope")).rejects.toThrow(/no tensor named "nope"/);
      } finally {
        await file.close();
      }
      await expect(file.readTensor("a.f32")).rejects.toThrow(/is closed/);
    });
  }

  it("writes general.alignment only when asked for a non-default alignment", async () => {
    const path = join(dir, "default-align.gguf");
    await writeGguf(path, { metadata: new Map([["k", gguf.u8(1)]]), tensors: [], alignment: 32 });
    const file = await openGguf(path);
    expect([...file.metadata.keys()]).toEqual(["k"]);
    expect(file.tensors).toEqual([]);
    await file.close();
  });

  it("rejects invalid input with clear errors and leaves no file behind", async () => {
    const path = join(dir, "invalid.gguf");
    const data = new Float32Array(32);
    const bad: [Parameters<typeof writeGguf>[1], RegExp][] = [
      [
        { metadata: [], tensors: [{ name: "x".repeat(64), shape: [32], type: "F32", data }] },
        /1 to 63 bytes/,
      ],
      [
        { metadata: [], tensors: [{ name: "x", shape: [31], type: "F32", data }] },
        /has 32 values but shape \[31\]/,
      ],
      [
        { metadata: [], tensors: [{ name: "x", shape: [16, 2], type: "Q8_0", data }] },
        /multiple of 32, got 16/,
      ],
      [{ metadata: [], tensors: [{ name: "x", shape: [0], type: "F32", data }] }, /positive integer/],
      [{ metadata: [], tensors: [], alignment: 48 }, /power of two/],
      [
        {
          metadata: [
            ["k", gguf.u8(1)],
            ["k", gguf.u8(2)],
          ],
          tensors: [],
        },
        /given twice/,
      ],
      [{ metadata: [["k", { type: "u8", value: 256 }]], tensors: [] }, /metadata "k": u8 value/],
      [
        { metadata: [], tensors: [{ name: "x", shape: [32], type: "F32", data: () => new Float32Array(3) }] },
        /3 values/,
      ],
    ];
    for (const [options, pattern] of bad) {
      const error = await writeGguf(path, options).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(GgufFormatError);
      expect((error as Error).message).toMatch(pattern);
      expect((error as Error).message).toContain(`cannot write GGUF file ${path}`);
      await expect(stat(path)).rejects.toThrow();
      await expect(stat(`${path}.tmp`)).rejects.toThrow();
    }
    expect(() => gguf.u8(256)).toThrow(RangeError);
    expect(() => gguf.i64(2n ** 63n)).toThrow(RangeError);
  });
});

describe("damaged and unsupported files", () => {
  let good: Uint8Array;
  let dataOffset: number;
  beforeAll(async () => {
    const path = join(dir, "good.gguf");
    const metadata: [string, GgufValue][] = [
      ["general.name", gguf.str("x".repeat(100))],
      ["tokenizer.ggml.tokens", gguf.strArray(["alpha", "beta", "gamma"])],
    ];
    await writeGguf(path, {
      metadata,
      tensors: [{ name: "w", shape: [64], type: "F32", data: seeded(64, 9) }],
    });
    good = await readFile(path);
    const file = await openGguf(path);
    dataOffset = file.dataOffset;
    await file.close();
  });

  it("reports a truncated file wherever it is cut", async () => {
    const inKey = Buffer.from(good).indexOf("tokenizer") + 4;
    const inString = Buffer.from(good).indexOf("gamma") + 2;
    const cuts: [number, RegExp][] = [
      [0, /while reading the magic number.*truncated/],
      [2, /while reading the magic number/],
      [10, /while reading the tensor and metadata counts/],
      [30, /header claims 1 tensors and 2 metadata entries, which cannot fit in the 6 bytes/],
      [
        Buffer.from(good).indexOf("xxxx") + 50,
        /length of metadata "general.name" is 100 bytes, but only 50 bytes remain in the file; it is truncated/,
      ],
      [inKey, /metadata key 2 of 2/],
      [inString, /metadata "tokenizer.ggml.tokens"\[2\]/],
      [dataOffset - 10, /tensor "w"|tensor 1 of 1/],
      [dataOffset + 10, /data of tensor "w" .* extends past the end of the file/],
      [good.length - 1, /extends past the end of the file/],
    ];
    for (const [cut, pattern] of cuts) {
      const path = join(dir, `cut-${cut}.gguf`);
      await writeFile(path, good);
      await truncate(path, cut);
      await expectFormatError(path, pattern);
    }
  });

  it("rejects bad magic, unknown versions and big-endian files", async () => {
    const rest = good.subarray(4);
    await expectFormatError(
      await put("magic.gguf", Buffer.concat([Buffer.from("GGML"), rest])),
      /not a GGUF file/,
    );
    const withVersion = (v: number) =>
      Buffer.concat([ggufHeader(0, 0).build().subarray(0, 4), new Bytes().u32(v).build(), good.subarray(8)]);
    await expectFormatError(await put("v1.gguf", withVersion(1)), /version 1 .*obsolete/);
    await expectFormatError(await put("v9.gguf", withVersion(9)), /unsupported GGUF version 9/);
    await expectFormatError(await put("be.gguf", withVersion(0x03000000)), /big-endian/);
  });

  it("rejects absurd counts and lengths quickly", async () => {
    const started = Date.now();
    await expectFormatError(
      await put("kv.gguf", ggufHeader(0, 2n ** 60n).build()),
      /header claims 0 tensors and 1152921504606846976 metadata entries, which cannot fit in the 0 bytes/,
    );
    await expectFormatError(await put("t.gguf", ggufHeader(2n ** 60n, 0).build()), /tensors/);
    const hugeKey = ggufHeader(0, 1)
      .u64(2n ** 60n)
      .u8(...new Uint8Array(64))
      .build();
    await expectFormatError(
      await put("key.gguf", hugeKey),
      /length of metadata key 1 of 1 is 1152921504606846976 bytes, but only 64 bytes remain/,
    );
    const hugeStr = ggufHeader(0, 1)
      .str("k")
      .u32(8)
      .u64(2n ** 64n - 1n)
      .build();
    await expectFormatError(await put("str.gguf", hugeStr), /length of metadata "k"/);
    const strings = ggufHeader(0, 1)
      .str("k")
      .u32(9)
      .u32(8)
      .u64(2n ** 60n)
      .build();
    await expectFormatError(
      await put("arr.gguf", strings),
      /item count of metadata "k" is 1152921504606846976 items \(at least 8 bytes each\), but only 0 bytes remain/,
    );
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it("rejects unknown value types, bad blocks and misplaced data", async () => {
    await expectFormatError(
      await put("vt.gguf", ggufHeader(0, 1).str("k").u32(13).u8(0, 0, 0, 0).build()),
      /unknown value type 13/,
    );
    const tensor = (type: number, ne0: number, offset: number) =>
      ggufHeader(1, 0)
        .str("w")
        .u32(1)
        .u64(ne0)
        .u32(type)
        .u64(offset)
        .padTo(32)
        .u8(...new Uint8Array(256))
        .build();
    await expectFormatError(
      await put("blk.gguf", tensor(8, 30, 0)),
      /30 columns, not a multiple of the Q8_0 block size 32/,
    );
    await expectFormatError(
      await put("off.gguf", tensor(0, 4, 8)),
      /offset 8, not a multiple of the alignment 32/,
    );
    await expectFormatError(await put("past.gguf", tensor(0, 4, 256)), /extends past the end/);
    await expectFormatError(
      await put(
        "dims.gguf",
        ggufHeader(1, 0)
          .str("w")
          .u32(5)
          .u8(...new Uint8Array(64))
          .build(),
      ),
      /5 dimensions/,
    );
    const deep = ggufHeader(0, 1).str("deep").u32(9); // an array of arrays of arrays of …
    for (let d = 0; d < 40; d++) deep.u32(9).u64(1);
    await expectFormatError(
      await put("deep.gguf", deep.u8(...new Uint8Array(64)).build()),
      /more than 32 deep/,
    );
    const v2 = new Bytes().u8(0x47, 0x47, 0x55, 0x46).u32(2).u64(0).u64(1).str("k").u32(4).u32(7);
    const file = await openGguf(await put("v2.gguf", v2.build()));
    expect([file.version, file.metadataValue("k"), file.tensors.length]).toEqual([2, 7, 0]);
    await file.close();
  });

  it("reads metadata and other tensors of a file with a Q4_K tensor, and names it when asked", async () => {
    const q4k = Uint8Array.from({ length: 2 * 144 }, (_, i) => i & 0xff);
    const norm = new Float32Array([1, -2, 3.5, 0.25]);
    const bytes = ggufHeader(2, 2)
      .str("general.architecture")
      .u32(8)
      .str("llama")
      .str("llama.block_count")
      .u32(4)
      .u32(1)
      .str("blk.0.attn_q.weight")
      .u32(2)
      .u64(256)
      .u64(2)
      .u32(12)
      .u64(0)
      .str("output_norm.weight")
      .u32(1)
      .u64(4)
      .u32(0)
      .u64(288)
      .padTo(32)
      .u8(...q4k)
      .u8(...new Uint8Array(norm.buffer))
      .build();
    const path = await put("q4k.gguf", bytes);
    const file = await openGguf(path);
    try {
      expect(file.metadataValue("general.architecture")).toBe("llama");
      expect(file.metadataValue("llama.block_count")).toBe(1);
      expect(file.tensor("blk.0.attn_q.weight")).toMatchObject({ typeName: "Q4_K", type: 12, byteSize: 288 });
      expect(await file.readTensor("output_norm.weight")).toEqual(norm);
      expect(await file.readTensorBytes("blk.0.attn_q.weight")).toEqual(q4k);
      const error = await file.readTensor("blk.0.attn_q.weight").catch((e: unknown) => e);
      expect(error).toBeInstanceOf(UnsupportedTensorTypeError);
      expect(UnsupportedTensorTypeError.isInstance(error)).toBe(true);
      expect((error as Error).message).toBe(
        `unsupported tensor type Q4_K in file ${path} (tensor "blk.0.attn_q.weight")`,
      );
    } finally {
      await file.close();
    }
  });
});
