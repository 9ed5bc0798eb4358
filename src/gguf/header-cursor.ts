// Sequential reading of GGUF header fields through a small buffer over a file handle, with every
// length checked against the bytes left in the file before anything is allocated.
import type { FileHandle } from "node:fs/promises";
import { GgufValueType } from "./ggml-types.js";
import { GgufFormatError } from "./gguf-format-error.js";
import type { GgufArray, GgufScalarType, GgufValue } from "./gguf-value.js";

const MAX_ARRAY_NESTING = 32;

const decoder = new TextDecoder("utf-8");

/** Reads a file handle front to back through a buffer, failing with a GgufFormatError at end of file. */
export class Cursor {
  private buf = new Uint8Array(64 * 1024);
  private view = new DataView(this.buf.buffer);
  private start = 0; // index in buf of the byte at file position `pos`
  private end = 0; // index in buf past the last valid byte
  pos = 0;

  constructor(
    private readonly fh: FileHandle,
    readonly fileSize: number,
    private readonly path: string,
  ) {}

  /** Bytes buffered at `pos`, readable without awaiting. */
  available(): number {
    return this.end - this.start;
  }

  /** Reads a whole string if it is already buffered and plausible, else returns undefined without moving. */
  tryString(): string | undefined {
    if (this.end - this.start < 8) return undefined;
    const n = this.view.getBigUint64(this.start, true);
    if (n > BigInt(this.end - this.start - 8)) return undefined;
    this.advance(8);
    return this.utf8(Number(n));
  }

  remaining(): number {
    return this.fileSize - this.pos;
  }

  fail(problem: string, offset: number = this.pos): never {
    throw new GgufFormatError(this.path, problem, { offset });
  }

  /** Makes sure `n` bytes at `pos` are buffered; `what` names the thing being read for the error message. */
  async need(n: number, what: string): Promise<void> {
    if (this.end - this.start >= n) return;
    if (n > this.remaining()) {
      this.fail(
        `the file ends at byte ${this.fileSize} while reading ${what} (${n} bytes needed); it is truncated`,
      );
    }
    const kept = this.end - this.start;
    if (n > this.buf.length) {
      const bigger = new Uint8Array(Math.max(n, this.buf.length * 2));
      bigger.set(this.buf.subarray(this.start, this.end));
      this.buf = bigger;
      this.view = new DataView(bigger.buffer);
    } else {
      this.buf.copyWithin(0, this.start, this.end);
    }
    this.start = 0;
    this.end = kept;
    const want = Math.min(this.buf.length, this.remaining());
    while (this.end < want) {
      const { bytesRead } = await this.fh.read(this.buf, this.end, want - this.end, this.pos + this.end);
      if (bytesRead === 0)
        this.fail(`the file ended early while reading ${what}; it was truncated while open`);
      this.end += bytesRead;
    }
  }

  u32(): number {
    const v = this.view.getUint32(this.start, true);
    this.advance(4);
    return v;
  }
  u64(): bigint {
    const v = this.view.getBigUint64(this.start, true);
    this.advance(8);
    return v;
  }
  /** Reads a fixed-size scalar (everything except string and array). */
  scalar(reader: ScalarReader): number | bigint | boolean {
    const value = reader[2](this.view, this.start);
    this.advance(reader[1]);
    return value;
  }
  /** Decodes `n` buffered bytes as UTF-8. */
  utf8(n: number): string {
    const s = decoder.decode(this.buf.subarray(this.start, this.start + n));
    this.advance(n);
    return s;
  }
  private advance(n: number): void {
    this.start += n;
    this.pos += n;
  }
}

type ScalarReader = readonly [
  name: GgufScalarType,
  size: number,
  read: (v: DataView, at: number) => number | bigint | boolean,
];

/** Fixed-size value types: their name, byte size and decoder. */
const SCALARS: ReadonlyMap<number, ScalarReader> = new Map<number, ScalarReader>([
  [GgufValueType.UINT8, ["u8", 1, (v, at) => v.getUint8(at)]],
  [GgufValueType.INT8, ["i8", 1, (v, at) => v.getInt8(at)]],
  [GgufValueType.BOOL, ["bool", 1, (v, at) => v.getUint8(at) !== 0]],
  [GgufValueType.UINT16, ["u16", 2, (v, at) => v.getUint16(at, true)]],
  [GgufValueType.INT16, ["i16", 2, (v, at) => v.getInt16(at, true)]],
  [GgufValueType.UINT32, ["u32", 4, (v, at) => v.getUint32(at, true)]],
  [GgufValueType.INT32, ["i32", 4, (v, at) => v.getInt32(at, true)]],
  [GgufValueType.FLOAT32, ["f32", 4, (v, at) => v.getFloat32(at, true)]],
  [GgufValueType.UINT64, ["u64", 8, (v, at) => v.getBigUint64(at, true)]],
  [GgufValueType.INT64, ["i64", 8, (v, at) => v.getBigInt64(at, true)]],
  [GgufValueType.FLOAT64, ["f64", 8, (v, at) => v.getFloat64(at, true)]],
]);

/** The smallest encoding of a value of a type (a string is at least its length, an array its header). */
function minValueBytes(type: number): number | undefined {
  if (type === GgufValueType.STRING) return 8;
  if (type === GgufValueType.ARRAY) return 12;
  return SCALARS.get(type)?.[1];
}

/** Reads a u64 count (or, with minBytes 1, a byte length) and checks that `count * minBytes` bytes could follow. */
export async function readCount(cur: Cursor, what: string, minBytes: number): Promise<number> {
  const at = cur.pos;
  await cur.need(8, what);
  const count = cur.u64();
  if (count * BigInt(minBytes) > BigInt(cur.remaining())) {
    const claim = minBytes === 1 ? `${count} bytes` : `${count} items (at least ${minBytes} bytes each)`;
    cur.fail(
      `${what} is ${claim}, but only ${cur.remaining()} bytes remain in the file; it is truncated or corrupt`,
      at,
    );
  }
  return Number(count);
}

/** Reads a GGUF string (u64 byte length, then UTF-8); `what` names it in error messages. */
export async function readString(cur: Cursor, what: string): Promise<string> {
  const n = await readCount(cur, `the length of ${what}`, 1);
  await cur.need(n, what);
  return cur.utf8(n);
}

/** Reads a metadata value of GGUF value type `type` (arrays nest at most 32 deep). */
export async function readValue(cur: Cursor, type: number, what: string, depth: number): Promise<GgufValue> {
  if (type === GgufValueType.STRING) return { type: "string", value: await readString(cur, what) };
  if (type === GgufValueType.ARRAY) return readArray(cur, what, depth);
  const reader = SCALARS.get(type);
  if (reader === undefined) cur.fail(`${what} has unknown value type ${type}`, cur.pos - 4);
  await cur.need(reader[1], what);
  return { type: reader[0], value: cur.scalar(reader) } as GgufValue;
}

/** Reads an array value after its ARRAY tag: item type, count, items. */
async function readArray(cur: Cursor, what: string, depth: number): Promise<GgufArray> {
  if (depth >= MAX_ARRAY_NESTING) cur.fail(`${what} nests arrays more than ${MAX_ARRAY_NESTING} deep`);
  await cur.need(4, what);
  const itemType = cur.u32();
  const itemBytes = minValueBytes(itemType);
  if (itemBytes === undefined) cur.fail(`${what} has unknown array item type ${itemType}`, cur.pos - 4);
  const count = await readCount(cur, `the item count of ${what}`, itemBytes);
  const items: unknown[] = new Array(count);
  const reader = SCALARS.get(itemType);
  for (let i = 0; i < count; i++) {
    // Fast paths read from the buffer without awaiting; the slow paths fill it and report errors.
    if (reader !== undefined) {
      if (cur.available() < reader[1]) await cur.need(reader[1], what);
      items[i] = cur.scalar(reader);
    } else if (itemType === GgufValueType.STRING)
      items[i] = cur.tryString() ?? (await readString(cur, `${what}[${i}]`));
    else items[i] = await readArray(cur, `${what}[${i}]`, depth + 1);
  }
  const itemName = reader?.[0] ?? (itemType === GgufValueType.STRING ? "string" : "array");
  return { type: "array", itemType: itemName, value: items } as GgufArray;
}

/** Quotes a key or name for a message: escaped, and shortened if long (damaged files can hold anything). */
export function q(s: string): string {
  return JSON.stringify(s.length > 80 ? `${s.slice(0, 60)}…` : s);
}
