// Reads GGUF files (llama.cpp's model format): header, metadata, tensor infos, and tensor data on demand.
// Hand-written: no maintained JS library both writes GGUF and reads tensor data.
import { type FileHandle, open } from "node:fs/promises";
import { CaiError } from "../errors/cai-error.js";
import { GgmlType, ggmlTypeLayout, ggmlTypeName } from "./ggml-types.js";
import { GgufFormatError } from "./gguf-format-error.js";
import type { GgufPlain, GgufValue } from "./gguf-value.js";
import { plainValue } from "./gguf-value.js";
import { Cursor, q, readString, readValue } from "./header-cursor.js";
import {
  bf16BytesToF32,
  dequantizeQ8_0,
  f16BytesToF32,
  HOST_IS_LITTLE_ENDIAN,
  swapBytes32,
} from "./numeric.js";
import { UnsupportedTensorTypeError } from "./unsupported-tensor-type-error.js";

/** Alignment of the tensor data section when `general.alignment` is absent. */
export const GGUF_DEFAULT_ALIGNMENT = 32;
const MAX_DIMS = 4;

/** Where one tensor is and how it is stored. */
export interface GgufTensorInfo {
  readonly name: string;
  /** Dimensions in GGUF `ne` order: shape[0] is the contiguous dimension. */
  readonly shape: readonly number[];
  /** GGML type id (see `GgmlType`). */
  readonly type: number;
  /** GGML type name, e.g. "F32" or "Q4_K". */
  readonly typeName: string;
  readonly elementCount: number;
  /** Offset of the data relative to the start of the data section, as stored in the file. */
  readonly offset: number;
  /** Absolute offset of the data in the file. */
  readonly dataOffset: number;
  /** Size of the data in bytes; undefined for removed or unknown types, whose block layout is not known. */
  readonly byteSize: number | undefined;
}

function alignUp(n: number, alignment: number): number {
  return Math.ceil(n / alignment) * alignment;
}

/** An open GGUF file: metadata and tensor infos are read on open, tensor data on demand. */
export class GgufFile {
  private closed = false;
  private readonly byName: ReadonlyMap<string, GgufTensorInfo>;

  private constructor(
    private readonly fh: FileHandle,
    /** Path the file was opened with. */
    readonly path: string,
    /** Size of the file in bytes. */
    readonly fileSize: number,
    /** GGUF version (2 or 3). */
    readonly version: number,
    /** Metadata in file order. */
    readonly metadata: ReadonlyMap<string, GgufValue>,
    /** Tensor infos in file order. */
    readonly tensors: readonly GgufTensorInfo[],
    /** Alignment of tensor data (`general.alignment`, default 32). */
    readonly alignment: number,
    /** Absolute offset of the tensor data section. */
    readonly dataOffset: number,
  ) {
    this.byName = new Map(tensors.map((t) => [t.name, t]));
  }

  /**
   * Opens a GGUF file and reads its header, metadata and tensor infos (not the tensor data).
   * Throws GgufFormatError if the file is not a well-formed little-endian GGUF v2/v3 file.
   */
  static async open(path: string): Promise<GgufFile> {
    const fh = await open(path, "r");
    try {
      const { size } = await fh.stat();
      return await GgufFile.parse(fh, path, size);
    } catch (error) {
      await fh.close();
      throw error;
    }
  }

  private static async parse(fh: FileHandle, path: string, fileSize: number): Promise<GgufFile> {
    const cur = new Cursor(fh, fileSize, path);
    await cur.need(4, "the magic number");
    const magic = cur.utf8(4);
    if (magic !== "GGUF") {
      const hint = magic === "FUGG" ? "a big-endian GGUF file, which is not supported" : "not a GGUF file";
      cur.fail(`the file starts with ${JSON.stringify(magic)} instead of "GGUF": ${hint}`, 0);
    }
    await cur.need(4, "the version");
    const version = cur.u32();
    if ((version & 0xffff) === 0 && version !== 0) {
      cur.fail(
        `the version field reads ${version}: this is a big-endian GGUF file, which is not supported`,
        4,
      );
    }
    if (version !== 2 && version !== 3) {
      const why = version === 1 ? "GGUF v1 is obsolete" : "only versions 2 and 3 are known";
      cur.fail(`unsupported GGUF version ${version} (${why})`, 4);
    }
    await cur.need(16, "the tensor and metadata counts");
    const tensorCount = cur.u64();
    const kvCount = cur.u64();
    const minBytes = tensorCount * 24n + kvCount * 13n;
    if (minBytes > BigInt(cur.remaining())) {
      const claim = `the header claims ${tensorCount} tensors and ${kvCount} metadata entries`;
      cur.fail(
        `${claim}, which cannot fit in the ${cur.remaining()} bytes that follow; it is truncated or corrupt`,
        8,
      );
    }

    const metadata = new Map<string, GgufValue>();
    for (let i = 0; i < Number(kvCount); i++) {
      const at = cur.pos;
      const key = await readString(cur, `metadata key ${i + 1} of ${kvCount}`);
      await cur.need(4, `the value type of metadata ${q(key)}`);
      const value = await readValue(cur, cur.u32(), `metadata ${q(key)}`, 0);
      if (metadata.has(key)) cur.fail(`metadata key ${q(key)} appears twice`, at);
      metadata.set(key, value);
    }

    const alignValue = metadata.get("general.alignment");
    let alignment = GGUF_DEFAULT_ALIGNMENT;
    if (alignValue !== undefined) {
      const a = alignValue.type === "u32" ? alignValue.value : 0;
      if (a === 0 || (a & (a - 1)) !== 0) {
        const got = `${alignValue.type} ${String(plainValue(alignValue))}`;
        cur.fail(`general.alignment must be a u32 power of two, got ${got}`);
      }
      alignment = a;
    }

    const infos: Omit<GgufTensorInfo, "dataOffset">[] = [];
    const names = new Set<string>();
    for (let i = 0; i < Number(tensorCount); i++) {
      const at = cur.pos;
      const name = await readString(cur, `the name of tensor ${i + 1} of ${tensorCount}`);
      if (names.has(name)) cur.fail(`tensor name ${q(name)} appears twice`, at);
      names.add(name);
      const what = `the info of tensor ${q(name)}`;
      await cur.need(4, what);
      const nDims = cur.u32();
      if (nDims > MAX_DIMS)
        cur.fail(`tensor ${q(name)} has ${nDims} dimensions; GGML allows at most ${MAX_DIMS}`);
      await cur.need(nDims * 8 + 12, what);
      const dims: bigint[] = [];
      for (let d = 0; d < nDims; d++) dims.push(cur.u64());
      const type = cur.u32();
      const offset = cur.u64();
      const elements = dims.reduce((a, b) => a * b, 1n);
      if (elements > BigInt(Number.MAX_SAFE_INTEGER) || offset > BigInt(Number.MAX_SAFE_INTEGER)) {
        const shape = `[${dims.join(", ")}]`;
        cur.fail(
          `tensor ${q(name)} has an impossible shape ${shape} or data offset ${offset} (over 2^53)`,
          at,
        );
      }
      const shape = dims.map(Number);
      const layout = ggmlTypeLayout(type);
      const ne0 = shape[0] ?? 1;
      if (layout !== undefined && ne0 % layout.blockSize !== 0) {
        const typeName = ggmlTypeName(type);
        cur.fail(
          `tensor ${q(name)} has ${ne0} columns, not a multiple of the ${typeName} block size ${layout.blockSize}`,
        );
      }
      const elementCount = Number(elements);
      const byteSize = layout && (elementCount / layout.blockSize) * layout.bytesPerBlock;
      infos.push({
        name,
        shape,
        type,
        typeName: ggmlTypeName(type),
        elementCount,
        offset: Number(offset),
        byteSize,
      });
    }

    const dataOffset = alignUp(cur.pos, alignment);
    const tensors = infos.map((t): GgufTensorInfo => {
      const absolute = dataOffset + t.offset;
      if (t.offset % alignment !== 0) {
        const problem = `tensor ${q(t.name)} has data offset ${t.offset}, not a multiple of the alignment ${alignment}`;
        cur.fail(problem, absolute);
      }
      const end = absolute + (t.byteSize ?? 0);
      if (end > fileSize) {
        const range = `bytes ${absolute} to ${end}`;
        const problem = `the data of tensor ${q(t.name)} (${range}) extends past the end of the file (${fileSize} bytes)`;
        cur.fail(`${problem}; it is truncated`, absolute);
      }
      return { ...t, dataOffset: absolute };
    });
    return new GgufFile(fh, path, fileSize, version, metadata, tensors, alignment, dataOffset);
  }

  /** The info of a tensor, or undefined if there is none of that name. */
  tensor(name: string): GgufTensorInfo | undefined {
    return this.byName.get(name);
  }

  /** The plain JS value of a metadata entry (see `plainValue`), or undefined if absent. */
  metadataValue(key: string): GgufPlain | undefined {
    const v = this.metadata.get(key);
    return v === undefined ? undefined : plainValue(v);
  }

  /** The raw bytes of a tensor as stored. Throws UnsupportedTensorTypeError if its size is unknown. */
  async readTensorBytes(name: string): Promise<Uint8Array> {
    const info = this.requireTensor(name);
    if (info.byteSize === undefined) throw this.unsupported(info);
    const bytes = new Uint8Array(info.byteSize);
    await this.readInto(info, bytes);
    return bytes;
  }

  /**
   * A tensor's values as float32, in storage order (shape[0] fastest). Decodes F32, F16, BF16 and Q8_0;
   * other types throw UnsupportedTensorTypeError.
   */
  async readTensor(name: string): Promise<Float32Array> {
    const info = this.requireTensor(name);
    switch (info.type) {
      case GgmlType.F32: {
        const out = new Float32Array(info.elementCount);
        const bytes = new Uint8Array(out.buffer);
        await this.readInto(info, bytes);
        if (!HOST_IS_LITTLE_ENDIAN) swapBytes32(bytes);
        return out;
      }
      case GgmlType.F16:
        return f16BytesToF32(await this.readTensorBytes(name));
      case GgmlType.BF16:
        return bf16BytesToF32(await this.readTensorBytes(name));
      case GgmlType.Q8_0:
        return dequantizeQ8_0(await this.readTensorBytes(name));
      default:
        throw this.unsupported(info);
    }
  }

  /** Closes the file; later reads throw. Closing twice is harmless. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.fh.close();
  }

  private requireTensor(name: string): GgufTensorInfo {
    if (this.closed) throw new CaiError(`GGUF file ${this.path} is closed; open it again to read tensors`);
    const info = this.byName.get(name);
    if (info === undefined) {
      const count = this.tensors.length;
      throw new CaiError(`no tensor named ${q(name)} in GGUF file ${this.path} (it has ${count} tensors)`);
    }
    return info;
  }

  private unsupported(info: GgufTensorInfo): UnsupportedTensorTypeError {
    return new UnsupportedTensorTypeError(this.path, info.name, info.type, info.typeName);
  }

  private async readInto(info: GgufTensorInfo, bytes: Uint8Array): Promise<void> {
    let done = 0;
    while (done < bytes.length) {
      const chunk = Math.min(bytes.length - done, 1 << 30);
      const { bytesRead } = await this.fh.read(bytes, done, chunk, info.dataOffset + done);
      if (bytesRead === 0) {
        const problem = `the file ended while reading tensor ${q(info.name)}; it was truncated after opening`;
        throw new GgufFormatError(this.path, problem, { offset: info.dataOffset + done });
      }
      done += bytesRead;
    }
  }
}

/** Opens a GGUF file (see `GgufFile.open`). Close it with `close()` when done. */
export function openGguf(path: string): Promise<GgufFile> {
  return GgufFile.open(path);
}
