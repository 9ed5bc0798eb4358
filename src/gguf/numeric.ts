// Number formats of GGUF tensors: float16 and bfloat16 conversions and Q8_0 (de)quantisation.
// Node 20 has no Float16Array, so the bit manipulation is done here by hand.

/** Elements per Q8_0 block. */
export const Q8_0_BLOCK_SIZE = 32;
/** Bytes per Q8_0 block: a float16 scale then 32 int8 values. */
export const Q8_0_BLOCK_BYTES = 34;

/** True when typed arrays on this host are little-endian, as GGUF data is. */
export const HOST_IS_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

const f32Scratch = new Float32Array(1);
const u32Scratch = new Uint32Array(f32Scratch.buffer);

/**
 * Converts a number to IEEE float16 bits, rounding to nearest even.
 * The number is first rounded to float32 (as ggml does); overflow gives ±Infinity, NaN stays NaN.
 */
export function f32ToF16Bits(x: number): number {
  f32Scratch[0] = x;
  const bits = u32Scratch[0] ?? 0;
  const sign = (bits >>> 16) & 0x8000;
  const exp = (bits >>> 23) & 0xff;
  const mant = bits & 0x7fffff;
  if (exp === 0xff) {
    // Infinity keeps a zero mantissa; NaN keeps its top payload bits and is made quiet (never zero).
    return mant === 0 ? sign | 0x7c00 : sign | 0x7e00 | (mant >>> 13);
  }
  const e = exp - 127 + 15; // biased float16 exponent
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    // Float16 subnormal (or zero): value = m * 2^-24.
    if (e < -10) return sign;
    const full = mant | 0x800000;
    const shift = 14 - e; // 14..24
    const rest = full & ((1 << shift) - 1);
    const halfway = 1 << (shift - 1);
    let m = full >>> shift;
    if (rest > halfway || (rest === halfway && (m & 1) === 1)) m++;
    return sign | m; // a carry to 0x400 is exactly the smallest normal
  }
  let h = (e << 10) | (mant >>> 13);
  const rest = mant & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && (h & 1) === 1)) h++; // a carry may reach Infinity, as it should
  return sign | h;
}

let f16Table: Float32Array | undefined;

/** All 65536 float16 values as float32, built on first use (256 KiB). */
function f16ToF32Table(): Float32Array {
  if (f16Table === undefined) {
    const table = new Float32Array(65536);
    for (let h = 0; h < 65536; h++) table[h] = f16BitsToF32Slow(h);
    f16Table = table;
  }
  return f16Table;
}

function f16BitsToF32Slow(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const e = (h >>> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return sign * m * 2 ** -24;
  if (e === 0x1f) return m === 0 ? sign * Number.POSITIVE_INFINITY : Number.NaN;
  return sign * (1 + m / 1024) * 2 ** (e - 15);
}

/** Converts float16 bits (0..65535) to the number they encode. */
export function f16BitsToF32(h: number): number {
  return f16ToF32Table()[h & 0xffff] ?? Number.NaN;
}

/** Rounds every value to the nearest float16, returning float32 values (what an F16 round trip gives). */
export function roundToF16(src: Float32Array | readonly number[]): Float32Array {
  const table = f16ToF32Table();
  const out = new Float32Array(src.length);
  for (let i = 0; i < src.length; i++) out[i] = table[f32ToF16Bits(src[i] ?? 0)] ?? Number.NaN;
  return out;
}

/** Encodes float32 values as little-endian float16 bytes (2 per value). */
export function f32ToF16Bytes(src: Float32Array): Uint8Array {
  const out = new Uint8Array(src.length * 2);
  for (let i = 0, o = 0; i < src.length; i++, o += 2) {
    const h = f32ToF16Bits(src[i] ?? 0);
    out[o] = h & 0xff;
    out[o + 1] = h >>> 8;
  }
  return out;
}

/** Decodes little-endian float16 bytes to float32 values. */
export function f16BytesToF32(bytes: Uint8Array): Float32Array {
  const table = f16ToF32Table();
  const n = bytes.length >>> 1;
  const out = new Float32Array(n);
  for (let i = 0, o = 0; i < n; i++, o += 2) {
    out[i] = table[(bytes[o] ?? 0) | ((bytes[o + 1] ?? 0) << 8)] ?? Number.NaN;
  }
  return out;
}

/** Converts bfloat16 bits (the top half of a float32) to the number they encode. */
export function bf16BitsToF32(h: number): number {
  u32Scratch[0] = (h & 0xffff) << 16;
  return f32Scratch[0] ?? Number.NaN;
}

/** Decodes little-endian bfloat16 bytes to float32 values. */
export function bf16BytesToF32(bytes: Uint8Array): Float32Array {
  const n = bytes.length >>> 1;
  const bits = new Uint32Array(n);
  for (let i = 0, o = 0; i < n; i++, o += 2) bits[i] = ((bytes[o] ?? 0) | ((bytes[o + 1] ?? 0) << 8)) << 16;
  if (!HOST_IS_LITTLE_ENDIAN) swapBytes32(new Uint8Array(bits.buffer));
  return new Float32Array(bits.buffer);
}

/** Reverses the byte order of every 4-byte group in place (for big-endian hosts). */
export function swapBytes32(bytes: Uint8Array): void {
  for (let i = 0; i + 3 < bytes.length; i += 4) {
    const a = bytes[i] ?? 0;
    const b = bytes[i + 1] ?? 0;
    bytes[i] = bytes[i + 3] ?? 0;
    bytes[i + 1] = bytes[i + 2] ?? 0;
    bytes[i + 2] = b;
    bytes[i + 3] = a;
  }
}

/**
 * Quantises float32 values to Q8_0: per block of 32, a float16 scale d = max|x| / 127 and
 * int8 q = round(x / d) (half away from zero; d rounded to float16 first, so |q·d − x| ≤ d/2).
 * Throws a RangeError if the length is not a multiple of 32, a value is not finite, or a scale
 * does not fit in float16.
 */
export function quantizeQ8_0(src: Float32Array): Uint8Array {
  if (src.length % Q8_0_BLOCK_SIZE !== 0) {
    throw new RangeError(`Q8_0 needs a multiple of ${Q8_0_BLOCK_SIZE} values, got ${src.length}`);
  }
  const blocks = src.length / Q8_0_BLOCK_SIZE;
  const out = new Uint8Array(blocks * Q8_0_BLOCK_BYTES);
  for (let b = 0; b < blocks; b++) {
    const start = b * Q8_0_BLOCK_SIZE;
    let amax = 0;
    for (let i = 0; i < Q8_0_BLOCK_SIZE; i++) {
      const v = src[start + i] ?? 0;
      if (!Number.isFinite(v)) throw new RangeError(`Q8_0 cannot encode ${v} (value ${start + i})`);
      const a = Math.abs(v);
      if (a > amax) amax = a;
    }
    const dBits = f32ToF16Bits(amax / 127);
    const d = f16BitsToF32(dBits);
    if (!Number.isFinite(d)) {
      throw new RangeError(`Q8_0 block ${b} has max |x| = ${amax}, too large for a float16 scale`);
    }
    const o = b * Q8_0_BLOCK_BYTES;
    out[o] = dBits & 0xff;
    out[o + 1] = dBits >>> 8;
    if (d === 0) continue; // all q stay 0
    for (let i = 0; i < Q8_0_BLOCK_SIZE; i++) {
      const r = (src[start + i] ?? 0) / d;
      const q = Math.max(-127, Math.min(127, Math.sign(r) * Math.round(Math.abs(r))));
      out[o + 2 + i] = q & 0xff;
    }
  }
  return out;
}

/** Dequantises Q8_0 bytes (34 per block of 32 values) to float32 values. */
export function dequantizeQ8_0(bytes: Uint8Array): Float32Array {
  if (bytes.length % Q8_0_BLOCK_BYTES !== 0) {
    throw new RangeError(`Q8_0 data must be a multiple of ${Q8_0_BLOCK_BYTES} bytes, got ${bytes.length}`);
  }
  const blocks = bytes.length / Q8_0_BLOCK_BYTES;
  const table = f16ToF32Table();
  const out = new Float32Array(blocks * Q8_0_BLOCK_SIZE);
  for (let b = 0; b < blocks; b++) {
    const o = b * Q8_0_BLOCK_BYTES;
    const d = table[(bytes[o] ?? 0) | ((bytes[o + 1] ?? 0) << 8)] ?? Number.NaN;
    const start = b * Q8_0_BLOCK_SIZE;
    for (let i = 0; i < Q8_0_BLOCK_SIZE; i++) {
      const q = bytes[o + 2 + i] ?? 0;
      out[start + i] = (q > 127 ? q - 256 : q) * d;
    }
  }
  return out;
}
