// Minimal reader and writer of the safetensors format (https://github.com/huggingface/safetensors), written
// by hand because the format is small and fully specified:
//   - 8 bytes: N, the header length, an unsigned little-endian 64-bit integer;
//   - N bytes: a UTF-8 JSON object { "<name>": { "dtype": "F32", "shape": [...], "data_offsets": [begin, end] },
//     ..., "__metadata__": { "<key>": "<string>" } }, padded with spaces (0x20) so 8 + N is a multiple of 8;
//   - the data: every tensor's values, row-major, little-endian, at [begin, end) counted from the data's
//     first byte; the ranges are contiguous and cover the whole data section (no holes, no overlap).
// The writer stores F32 only (all the trainer produces); the reader also decodes F16 and BF16 to float32.
import { open, readFile } from "node:fs/promises";
import os from "node:os";
import { CaiError } from "../../errors/cai-error.js";

/** A float32 tensor to write: its name, its shape and its values, row-major. */
export interface SafetensorsTensorSpec {
  readonly name: string;
  readonly shape: readonly number[];
  readonly data: Float32Array;
}

/** A tensor read from a safetensors file, its values decoded to float32. */
export interface SafetensorsTensor {
  /** The stored dtype (`F32`, `F16` or `BF16`). */
  readonly dtype: string;
  readonly shape: readonly number[];
  readonly data: Float32Array;
}

/** The content of a safetensors file. */
export interface SafetensorsFile {
  /** The tensors, in the order of their data. */
  readonly tensors: ReadonlyMap<string, SafetensorsTensor>;
  /** The `__metadata__` string map (empty when absent). */
  readonly metadata: Readonly<Record<string, string>>;
}

const metadataKey = "__metadata__";
const littleEndian = os.endianness() === "LE";
const bytesPerElement: Readonly<Record<string, number>> = { F32: 4, F16: 2, BF16: 2 };

function elementCount(shape: readonly number[]): number {
  return shape.reduce((product, size) => product * size, 1);
}

/** The little-endian bytes of `values`, as a safetensors file stores them. */
export function float32Bytes(values: Float32Array): Uint8Array {
  if (littleEndian) return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
  const bytes = new Uint8Array(values.length * 4);
  const view = new DataView(bytes.buffer);
  values.forEach((value, i) => {
    view.setFloat32(i * 4, value, true);
  });
  return bytes;
}

/**
 * The bytes of a safetensors file holding `tensors` (F32) in the given order, with `metadata` as its
 * `__metadata__`. Throws CaiError on a duplicate or reserved name, or values that do not fill their shape.
 */
export function encodeSafetensors(
  tensors: readonly SafetensorsTensorSpec[],
  metadata: Readonly<Record<string, string>> = {},
): Uint8Array {
  const header: Record<string, unknown> = {};
  const names = new Set<string>();
  let offset = 0;
  for (const tensor of tensors) {
    if (tensor.name === metadataKey || names.has(tensor.name))
      throw new CaiError(`safetensors: tensor name ${JSON.stringify(tensor.name)} is reserved or repeated`);
    names.add(tensor.name);
    if (!tensor.shape.every((size) => Number.isInteger(size) && size >= 0))
      throw new CaiError(
        `safetensors: tensor ${tensor.name} has an invalid shape [${tensor.shape.join(", ")}]`,
      );
    const count = elementCount(tensor.shape);
    if (count !== tensor.data.length)
      throw new CaiError(
        `safetensors: tensor ${tensor.name} of shape [${tensor.shape.join(", ")}] has ${tensor.data.length} values, not ${count}`,
      );
    header[tensor.name] = {
      dtype: "F32",
      shape: [...tensor.shape],
      data_offsets: [offset, offset + count * 4],
    };
    offset += count * 4;
  }
  header[metadataKey] = { ...metadata };
  let json = JSON.stringify(header);
  // JSON.stringify escapes to ASCII-safe UTF-16; pad the UTF-8 length so the data starts 8-byte aligned.
  const unpadded = Buffer.byteLength(json, "utf8");
  json += " ".repeat((8 - ((8 + unpadded) % 8)) % 8);
  const headerBytes = Buffer.from(json, "utf8");
  const file = new Uint8Array(8 + headerBytes.length + offset);
  new DataView(file.buffer).setBigUint64(0, BigInt(headerBytes.length), true);
  file.set(headerBytes, 8);
  let at = 8 + headerBytes.length;
  for (const tensor of tensors) {
    file.set(float32Bytes(tensor.data), at);
    at += tensor.data.length * 4;
  }
  return file;
}

/** Writes `tensors` (F32, in the given order) to a safetensors file at `path`; see {@link encodeSafetensors}. */
export async function writeSafetensors(
  path: string,
  tensors: readonly SafetensorsTensorSpec[],
  metadata: Readonly<Record<string, string>> = {},
): Promise<void> {
  const bytes = encodeSafetensors(tensors, metadata);
  const handle = await open(path, "w");
  try {
    await handle.write(bytes);
  } finally {
    await handle.close();
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isNaturalArray(value: unknown): value is number[] {
  return Array.isArray(value) && value.every((n) => typeof n === "number" && Number.isInteger(n) && n >= 0);
}

/** An IEEE half-precision value. */
function halfToFloat(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) return sign * fraction * 2 ** -24;
  if (exponent === 0x1f) return fraction ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
}

const scratch = new DataView(new ArrayBuffer(4));

function decode(dtype: string, bytes: Uint8Array): Float32Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const values = new Float32Array(bytes.byteLength / (bytesPerElement[dtype] ?? 4));
  for (let i = 0; i < values.length; i += 1) {
    if (dtype === "F32") values[i] = view.getFloat32(i * 4, true);
    else if (dtype === "F16") values[i] = halfToFloat(view.getUint16(i * 2, true));
    else {
      // BF16 is the upper half of a float32.
      scratch.setUint32(0, view.getUint16(i * 2, true) << 16);
      values[i] = scratch.getFloat32(0);
    }
  }
  return values;
}

/**
 * Parses the bytes of a safetensors file. `source` names the file in errors. Throws CaiError when the
 * header is malformed, a range leaves the data section, the ranges leave holes or overlap, or a dtype is
 * not F32, F16 or BF16.
 */
export function decodeSafetensors(bytes: Uint8Array, source = "safetensors data"): SafetensorsFile {
  const fail = (reason: string) => new CaiError(`${source} is not a valid safetensors file: ${reason}`);
  if (bytes.byteLength < 8) throw fail("it is shorter than 8 bytes");
  const headerLength = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getBigUint64(0, true);
  if (headerLength > BigInt(bytes.byteLength - 8))
    throw fail(`its header length ${headerLength} is too large`);
  const dataStart = 8 + Number(headerLength);
  let header: unknown;
  try {
    header = JSON.parse(Buffer.from(bytes.subarray(8, dataStart)).toString("utf8"));
  } catch (error) {
    throw fail(`its header is not JSON (${error instanceof Error ? error.message : String(error)})`);
  }
  if (!isRecord(header)) throw fail("its header is not a JSON object");
  const dataLength = bytes.byteLength - dataStart;
  const entries: { name: string; dtype: string; shape: number[]; begin: number; end: number }[] = [];
  const metadata: Record<string, string> = {};
  for (const [name, entry] of Object.entries(header)) {
    if (name === metadataKey) {
      if (!isRecord(entry)) throw fail("__metadata__ is not an object");
      for (const [key, value] of Object.entries(entry)) {
        if (typeof value !== "string") throw fail(`__metadata__.${key} is not a string`);
        metadata[key] = value;
      }
      continue;
    }
    if (!isRecord(entry)) throw fail(`the entry of ${name} is not an object`);
    const { dtype, shape, data_offsets: offsets } = entry;
    if (typeof dtype !== "string" || !(dtype in bytesPerElement))
      throw fail(`tensor ${name} has dtype ${String(dtype)}; only F32, F16 and BF16 are read`);
    if (!isNaturalArray(shape)) throw fail(`tensor ${name} has an invalid shape`);
    if (!isNaturalArray(offsets) || offsets.length !== 2)
      throw fail(`tensor ${name} has invalid data_offsets`);
    const [begin, end] = offsets as [number, number];
    if (begin > end || end > dataLength)
      throw fail(`tensor ${name}'s data [${begin}, ${end}) is out of range`);
    if (end - begin !== elementCount(shape) * (bytesPerElement[dtype] ?? 4))
      throw fail(`tensor ${name}'s data [${begin}, ${end}) does not match its shape and dtype`);
    entries.push({ name, dtype, shape, begin, end });
  }
  entries.sort((x, y) => x.begin - y.begin || x.end - y.end);
  let expected = 0;
  for (const entry of entries) {
    if (entry.begin !== expected) throw fail(`tensor ${entry.name}'s data leaves a hole or overlaps`);
    expected = entry.end;
  }
  if (expected !== dataLength) throw fail("its data section has trailing bytes");
  const tensors = new Map<string, SafetensorsTensor>();
  for (const { name, dtype, shape, begin, end } of entries)
    tensors.set(name, {
      dtype,
      shape,
      data: decode(dtype, bytes.subarray(dataStart + begin, dataStart + end)),
    });
  return { tensors, metadata };
}

/** Reads the safetensors file at `path`; see {@link decodeSafetensors}. */
export async function readSafetensors(path: string): Promise<SafetensorsFile> {
  return decodeSafetensors(await readFile(path), path);
}
