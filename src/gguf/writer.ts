// Writes GGUF v3 files (llama.cpp's model format) tensor by tensor, so large models never sit in memory at once.
// Hand-written: no maintained JS library both writes GGUF and reads tensor data.
import { type FileHandle, mkdir, open, rename, rm } from "node:fs/promises";
import { dirname } from "node:path";
import { GgufValueType } from "./ggml-types.js";
import { GgufFormatError } from "./gguf-format-error.js";
import { type GgufArray, type GgufScalarType, type GgufValue, ggufValueProblem } from "./gguf-value.js";
import {
  f32ToF16Bytes,
  HOST_IS_LITTLE_ENDIAN,
  Q8_0_BLOCK_BYTES,
  Q8_0_BLOCK_SIZE,
  quantizeQ8_0,
  swapBytes32,
} from "./numeric.js";
import { GGUF_DEFAULT_ALIGNMENT } from "./reader.js";

/** Tensor types the writer can produce from float32 data. */
export type GgufWriteTensorType = "F32" | "F16" | "Q8_0";

/** One tensor to write. */
export interface GgufTensorSpec {
  /** At most 63 bytes of UTF-8 (GGML's name limit). */
  name: string;
  /** Dimensions in GGUF `ne` order: shape[0] is the contiguous dimension. 1 to 4 positive integers. */
  shape: readonly number[];
  type: GgufWriteTensorType;
  /** The values (shape[0] fastest), or a function producing them when the tensor is written. */
  data: Float32Array | (() => Float32Array | Promise<Float32Array>);
}

/** What to write: metadata in order, tensors in order, and the data alignment (default 32). */
export interface GgufWriteOptions {
  metadata: ReadonlyMap<string, GgufValue> | ReadonlyArray<readonly [string, GgufValue]>;
  tensors: readonly GgufTensorSpec[];
  /** Alignment of tensor data, a power of two; written as `general.alignment` only if not 32. */
  alignment?: number;
}

const GGML_TYPE_IDS: Record<GgufWriteTensorType, number> = { F32: 0, F16: 1, Q8_0: 8 };
const MAX_NAME_BYTES = 63;
const CHUNK_ELEMENTS = 1 << 20; // values converted per write, a multiple of the Q8_0 block size

const TYPE_IDS: Record<GgufScalarType | "array", GgufValueType> = {
  u8: GgufValueType.UINT8,
  i8: GgufValueType.INT8,
  u16: GgufValueType.UINT16,
  i16: GgufValueType.INT16,
  u32: GgufValueType.UINT32,
  i32: GgufValueType.INT32,
  f32: GgufValueType.FLOAT32,
  bool: GgufValueType.BOOL,
  string: GgufValueType.STRING,
  array: GgufValueType.ARRAY,
  u64: GgufValueType.UINT64,
  i64: GgufValueType.INT64,
  f64: GgufValueType.FLOAT64,
};

type Setter = readonly [size: number, set: (dv: DataView, at: number, v: unknown) => void];

/** Byte size and encoder of each fixed-size scalar type (values are validated beforehand). */
const SETTERS: Record<Exclude<GgufScalarType, "string">, Setter> = {
  u8: [1, (dv, at, v) => dv.setUint8(at, Number(v))],
  i8: [1, (dv, at, v) => dv.setInt8(at, Number(v))],
  bool: [1, (dv, at, v) => dv.setUint8(at, v ? 1 : 0)],
  u16: [2, (dv, at, v) => dv.setUint16(at, Number(v), true)],
  i16: [2, (dv, at, v) => dv.setInt16(at, Number(v), true)],
  u32: [4, (dv, at, v) => dv.setUint32(at, Number(v), true)],
  i32: [4, (dv, at, v) => dv.setInt32(at, Number(v), true)],
  f32: [4, (dv, at, v) => dv.setFloat32(at, Number(v), true)],
  f64: [8, (dv, at, v) => dv.setFloat64(at, Number(v), true)],
  u64: [8, (dv, at, v) => dv.setBigUint64(at, v as bigint, true)],
  i64: [8, (dv, at, v) => dv.setBigInt64(at, v as bigint, true)],
};

const encoder = new TextEncoder();

/** A growable little-endian byte buffer for the header. */
class ByteWriter {
  private buf = new Uint8Array(4096);
  private view = new DataView(this.buf.buffer);
  length = 0;

  private room(n: number): number {
    if (this.length + n > this.buf.length) {
      const bigger = new Uint8Array(Math.max(this.buf.length * 2, this.length + n));
      bigger.set(this.buf.subarray(0, this.length));
      this.buf = bigger;
      this.view = new DataView(bigger.buffer);
    }
    const at = this.length;
    this.length += n;
    return at;
  }
  u32(v: number): void {
    const at = this.room(4);
    this.view.setUint32(at, v, true);
  }
  u64(v: bigint | number): void {
    const at = this.room(8);
    this.view.setBigUint64(at, BigInt(v), true);
  }
  bytes(b: Uint8Array): void {
    const at = this.room(b.length); // grow first: `room` may replace the buffer
    this.buf.set(b, at);
  }
  string(s: string): void {
    const b = encoder.encode(s);
    this.u64(b.length);
    this.bytes(b);
  }
  scalar(type: GgufScalarType, v: number | bigint | boolean | string): void {
    if (type === "string") {
      this.string(String(v));
      return;
    }
    const [size, set] = SETTERS[type];
    const at = this.room(size);
    set(this.view, at, v);
  }
  /** Writes an array's item type, count and items (no leading ARRAY tag). */
  array(a: GgufArray): void {
    this.u32(TYPE_IDS[a.itemType]);
    this.u64(a.value.length);
    if (a.itemType === "array") for (const item of a.value) this.array(item);
    else for (const item of a.value) this.scalar(a.itemType, item);
  }
  value(v: GgufValue): void {
    this.u32(TYPE_IDS[v.type]);
    if (v.type === "array") this.array(v);
    else this.scalar(v.type, v.value);
  }
  result(): Uint8Array {
    return this.buf.subarray(0, this.length);
  }
}

function alignUp(n: number, alignment: number): number {
  return Math.ceil(n / alignment) * alignment;
}

function isPowerOfTwo(n: number): boolean {
  return Number.isInteger(n) && n >= 1 && n <= 2 ** 31 && (n & (n - 1)) === 0;
}

function tensorByteSize(type: GgufWriteTensorType, elements: number): number {
  if (type === "F32") return elements * 4;
  if (type === "F16") return elements * 2;
  return (elements / Q8_0_BLOCK_SIZE) * Q8_0_BLOCK_BYTES;
}

interface PlannedTensor {
  spec: GgufTensorSpec;
  elements: number;
  byteSize: number;
  offset: number;
}

/** Validates metadata and tensors, and computes alignment and tensor offsets. Throws GgufFormatError. */
function plan(path: string, options: GgufWriteOptions) {
  const fail = (problem: string): never => {
    throw new GgufFormatError(path, problem, { writing: true });
  };
  const metadata: [string, GgufValue][] = [...options.metadata].map(([k, v]) => [k, v]);
  const keys = new Set<string>();
  for (const [key, value] of metadata) {
    if (typeof key !== "string" || key.length === 0) fail("metadata keys must be non-empty strings");
    if (keys.has(key)) fail(`metadata key "${key}" is given twice`);
    keys.add(key);
    const problem = ggufValueProblem(value);
    if (problem !== undefined) fail(`metadata "${key}": ${problem}`);
  }
  const given = metadata.find(([k]) => k === "general.alignment")?.[1];
  let alignment = options.alignment ?? GGUF_DEFAULT_ALIGNMENT;
  if (given !== undefined) {
    const a = given.type === "u32" ? given.value : Number.NaN;
    if (!isPowerOfTwo(a)) fail("metadata general.alignment must be a u32 power of two");
    if (options.alignment !== undefined && options.alignment !== a) {
      fail(`alignment ${options.alignment} contradicts metadata general.alignment = ${a}`);
    }
    alignment = a;
  }
  if (!isPowerOfTwo(alignment)) fail(`alignment must be a power of two up to 2^31, got ${alignment}`);
  if (given === undefined && alignment !== GGUF_DEFAULT_ALIGNMENT) {
    metadata.push(["general.alignment", { type: "u32", value: alignment }]);
  }

  const names = new Set<string>();
  const tensors: PlannedTensor[] = [];
  let offset = 0;
  for (const spec of options.tensors) {
    const { name, shape, type, data } = spec;
    const bytes = typeof name === "string" ? encoder.encode(name).length : 0;
    if (bytes === 0 || bytes > MAX_NAME_BYTES) {
      fail(`tensor name ${JSON.stringify(name)} must be 1 to ${MAX_NAME_BYTES} bytes of UTF-8, got ${bytes}`);
    }
    if (names.has(name)) fail(`tensor "${name}" is given twice`);
    names.add(name);
    if (!(type in GGML_TYPE_IDS))
      fail(`tensor "${name}" has type ${String(type)}; the writer supports F32, F16, Q8_0`);
    const goodDim = (d: number) => Number.isSafeInteger(d) && d >= 1;
    if (!Array.isArray(shape) || shape.length < 1 || shape.length > 4 || !shape.every(goodDim)) {
      fail(
        `tensor "${name}" has shape ${JSON.stringify(shape)}; it needs 1 to 4 positive integer dimensions`,
      );
    }
    const elements = shape.reduce((a, b) => a * b, 1);
    if (!Number.isSafeInteger(elements)) fail(`tensor "${name}" has too many elements`);
    const ne0 = shape[0] ?? 1;
    if (type === "Q8_0" && ne0 % Q8_0_BLOCK_SIZE !== 0) {
      fail(`tensor "${name}" is Q8_0, so shape[0] must be a multiple of ${Q8_0_BLOCK_SIZE}, got ${ne0}`);
    }
    if (typeof data !== "function") checkData(path, spec, data, elements);
    const byteSize = tensorByteSize(type, elements);
    tensors.push({ spec, elements, byteSize, offset });
    offset = alignUp(offset + byteSize, alignment);
  }
  return { metadata, alignment, tensors };
}

function checkData(path: string, spec: GgufTensorSpec, data: unknown, elements: number): Float32Array {
  if (!(data instanceof Float32Array)) {
    throw new GgufFormatError(path, `tensor "${spec.name}" data must be a Float32Array`, { writing: true });
  }
  if (data.length !== elements) {
    const problem = `tensor "${spec.name}" has ${data.length} values but shape [${spec.shape.join(", ")}] needs ${elements}`;
    throw new GgufFormatError(path, problem, { writing: true });
  }
  return data;
}

/** The bytes of a tensor in its GGUF encoding, in chunks of at most CHUNK_ELEMENTS values. */
function* encodeTensor(path: string, spec: GgufTensorSpec, data: Float32Array): Generator<Uint8Array> {
  if (spec.type === "F32" && HOST_IS_LITTLE_ENDIAN) {
    yield new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    return;
  }
  for (let i = 0; i < data.length; i += CHUNK_ELEMENTS) {
    const part = data.subarray(i, i + CHUNK_ELEMENTS);
    if (spec.type === "F16") yield f32ToF16Bytes(part);
    else if (spec.type === "F32") {
      const bytes = new Uint8Array(part.slice().buffer);
      swapBytes32(bytes);
      yield bytes;
    } else {
      try {
        yield quantizeQ8_0(part);
      } catch (error) {
        const problem = `tensor "${spec.name}" cannot be quantised (counting from value ${i}): ${String(error)}`;
        throw new GgufFormatError(path, problem, { writing: true, cause: error });
      }
    }
  }
}

/**
 * Writes a GGUF v3 file: header, metadata, tensor infos, then each tensor's data (converted to its
 * type and padded to the alignment). Lazy `data` functions are called one tensor at a time.
 * Writes to `path + ".tmp"` and renames it into place, so `path` never holds a partial file.
 * Throws GgufFormatError (before touching the disk where possible) if the input is invalid.
 */
export async function writeGguf(path: string, options: GgufWriteOptions): Promise<void> {
  const { metadata, alignment, tensors } = plan(path, options);
  await mkdir(dirname(path), { recursive: true });
  const header = new ByteWriter();
  header.bytes(encoder.encode("GGUF"));
  header.u32(3);
  header.u64(tensors.length);
  header.u64(metadata.length);
  for (const [key, value] of metadata) {
    header.string(key);
    header.value(value);
  }
  for (const t of tensors) {
    header.string(t.spec.name);
    header.u32(t.spec.shape.length);
    for (const d of t.spec.shape) header.u64(d);
    header.u32(GGML_TYPE_IDS[t.spec.type]);
    header.u64(t.offset);
  }

  const tmp = `${path}.tmp`;
  const fh = await open(tmp, "w");
  let closed = false;
  try {
    const out = new SequentialWriter(fh);
    await out.write(header.result());
    await out.pad(alignment);
    for (const t of tensors) {
      const { data } = t.spec;
      const values = checkData(path, t.spec, typeof data === "function" ? await data() : data, t.elements);
      for (const chunk of encodeTensor(path, t.spec, values)) await out.write(chunk);
      await out.pad(alignment);
    }
    await fh.sync();
    closed = true;
    await fh.close();
    await rename(tmp, path);
  } catch (error) {
    if (!closed) await fh.close().catch(() => undefined);
    await rm(tmp, { force: true }).catch(() => undefined);
    throw error;
  }
}

/** Writes buffers one after another at explicit positions, handling partial writes. */
class SequentialWriter {
  position = 0;
  constructor(private readonly fh: FileHandle) {}

  async write(bytes: Uint8Array): Promise<void> {
    let done = 0;
    while (done < bytes.length) {
      const { bytesWritten } = await this.fh.write(bytes, done, bytes.length - done, this.position + done);
      done += bytesWritten;
    }
    this.position += bytes.length;
  }

  /** Writes zeros up to the next multiple of `alignment`. */
  async pad(alignment: number): Promise<void> {
    const n = alignUp(this.position, alignment) - this.position;
    if (n > 0) await this.write(new Uint8Array(n));
  }
}
