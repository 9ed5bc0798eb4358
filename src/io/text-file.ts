// Reads a user's text file (constitution, prompt set, config) strictly: missing files, bytes that are
// not UTF-8, absurdly long lines and files too large to hold (also once gunzipped: a few MB of gzip can
// expand to gigabytes) become one InputFileError naming the file and place, raised as soon as it is known.
import { constants as bufferConstants } from "node:buffer";
import { createReadStream } from "node:fs";
import { readFile, stat } from "node:fs/promises";
import { pipeline } from "node:stream/promises";
import { createGunzip } from "node:zlib";
import { z } from "zod";
import { CaiError } from "../errors/cai-error.js";
import { InputFileError } from "../errors/input-file-error.js";

/** Options of {@link readUserTextFile}. */
export interface ReadUserTextFileOptions {
  /** Longest line accepted, in bytes. Default 1 MiB. */
  maxLineBytes?: number;
  /**
   * Largest text accepted, in bytes (after gunzipping). Default {@link maxTextBytes}: 256 MiB, or
   * `$CAI_MAX_TEXT_MIB` MiB. Never more than the longest string Node.js can hold (about 512 MiB).
   */
  maxBytes?: number;
}

/** The environment variable that raises the size limit of text files, in MiB. */
export const maxTextEnvironmentVariable = "CAI_MAX_TEXT_MIB";
const defaultMaxTextMib = 256;
const mib = 1024 * 1024;

/** The size limit of a text file in bytes: `$CAI_MAX_TEXT_MIB` MiB if set, else 256 MiB. */
export function maxTextBytes(): number {
  const raw = process.env[maxTextEnvironmentVariable];
  if (raw === undefined || raw === "") return defaultMaxTextMib * mib;
  const parsed = z.coerce.number().int().positive().safeParse(raw);
  if (!parsed.success)
    throw new CaiError(`${maxTextEnvironmentVariable} must be a whole number of MiB, got "${raw}"`);
  return parsed.data * mib;
}

/** 1-based line and column of a byte offset in `bytes`. */
export function placeOfByte(bytes: Uint8Array, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = bytes.indexOf(0x0a); i >= 0 && i < offset; i = bytes.indexOf(0x0a, i + 1)) {
    line += 1;
    lineStart = i + 1;
  }
  return { line, column: offset - lineStart + 1 };
}

/**
 * Byte offset of the first invalid UTF-8 sequence (WHATWG's rules: no overlongs, surrogates or code
 * points past U+10FFFF), or -1. By hand because TextDecoder and `buffer.isUtf8` say whether bytes are
 * UTF-8, not where they stop being; one pass without allocations, so it stays fast on large files.
 */
function firstInvalidUtf8(bytes: Uint8Array): number {
  const continuation = (at: number, low = 0x80, high = 0xbf) => {
    const b = bytes[at];
    return b !== undefined && b >= low && b <= high;
  };
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i] as number;
    let length = 0;
    if (b < 0x80) length = 1;
    else if (b >= 0xc2 && b <= 0xdf) length = continuation(i + 1) ? 2 : 0;
    else if (b >= 0xe0 && b <= 0xef) {
      const [low, high] = b === 0xe0 ? [0xa0, 0xbf] : b === 0xed ? [0x80, 0x9f] : [0x80, 0xbf];
      length = continuation(i + 1, low, high) && continuation(i + 2) ? 3 : 0;
    } else if (b >= 0xf0 && b <= 0xf4) {
      const [low, high] = b === 0xf0 ? [0x90, 0xbf] : b === 0xf4 ? [0x80, 0x8f] : [0x80, 0xbf];
      length = continuation(i + 1, low, high) && continuation(i + 2) && continuation(i + 3) ? 4 : 0;
    }
    if (length === 0) return i;
    i += length;
  }
  return -1;
}

/**
 * The first line longer than `maxLineBytes`, if any. It jumps from a line start to the last newline
 * within reach, so a file of short lines costs a few native scans per `maxLineBytes`, not one call per
 * line (a file of 256 million newlines is 256 million lines).
 */
function overlongLine(
  bytes: Uint8Array,
  maxLineBytes: number,
): { start: number; length: number } | undefined {
  let start = 0;
  while (bytes.length - start > maxLineBytes) {
    const newline = bytes.lastIndexOf(0x0a, start + maxLineBytes);
    if (newline < start) {
      const end = bytes.indexOf(0x0a, start);
      return { start, length: (end < 0 ? bytes.length : end) - start };
    }
    start = newline + 1;
  }
  return undefined;
}

/** `bytes` as MiB for messages: "256 MiB", "0.5 MiB". */
function formatMib(bytes: number): string {
  const value = bytes / mib;
  return `${Number.isInteger(value) ? value : value.toFixed(1)} MiB`;
}

/** The InputFileError of a file over `limit` bytes, saying how to raise the limit when it can be. */
function tooLarge(file: string, what: string, limit: number): InputFileError {
  const ceilingMib = Math.floor(bufferConstants.MAX_STRING_LENGTH / mib);
  const raise =
    limit >= ceilingMib * mib
      ? "about the longest text Node.js can hold; split the file"
      : `set ${maxTextEnvironmentVariable} to more MiB to raise it, up to ${ceilingMib}`;
  return new InputFileError(file, `${what} the limit of ${formatMib(limit)} for a text file (${raise})`);
}

/** The gunzipped bytes of `file`, streamed, stopping as soon as they pass `limit` bytes. */
async function gunzipWithin(file: string, limit: number): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  let total = 0;
  try {
    await pipeline(createReadStream(file), createGunzip({ chunkSize: 256 * 1024 }), async (inflated) => {
      for await (const chunk of inflated as AsyncIterable<Buffer>) {
        total += chunk.length;
        // Throwing ends the pipeline: decompression stops here, not at the end of the bomb.
        if (total > limit) throw tooLarge(file, "decompresses to more than", limit);
        chunks.push(chunk);
      }
    });
  } catch (error) {
    // The pipeline may hand back an AbortError in place of what its last stage threw.
    if (total > limit) throw tooLarge(file, "decompresses to more than", limit);
    throw error;
  }
  return Buffer.concat(chunks, total);
}

/** The bytes of `file` (gunzipped for `.gz`), or an InputFileError when it is missing or too large. */
async function readBytes(file: string, limit: number): Promise<Uint8Array> {
  try {
    if (file.endsWith(".gz")) return await gunzipWithin(file, limit);
    const { size } = await stat(file);
    if (size > limit) throw tooLarge(file, `is ${formatMib(size)}, more than`, limit);
    return await readFile(file);
  } catch (error) {
    if (InputFileError.isInstance(error)) throw error;
    const { code, message } = error as NodeJS.ErrnoException;
    const problem =
      code === "ENOENT"
        ? "no such file"
        : code === "EISDIR"
          ? "is a folder, not a file"
          : code?.startsWith("Z_")
            ? `not valid gzip data (${message})`
            : String(error);
    throw new InputFileError(file, problem, {}, { cause: error });
  }
}

/**
 * The text of `file` (gunzipped if it ends in `.gz`), or an InputFileError: no such file, larger than
 * the size limit (checked before reading, or while gunzipping), not UTF-8 (with the line and column of
 * the first bad byte), or a line over the limit.
 */
export async function readUserTextFile(file: string, options: ReadUserTextFileOptions = {}): Promise<string> {
  // A UTF-8 byte decodes to at most one UTF-16 unit, so under this ceiling the text always fits a string.
  const limit = Math.min(options.maxBytes ?? maxTextBytes(), bufferConstants.MAX_STRING_LENGTH);
  const bytes = await readBytes(file, limit);
  const maxLineBytes = options.maxLineBytes ?? 1024 * 1024;
  const overlong = overlongLine(bytes, maxLineBytes);
  if (overlong)
    throw new InputFileError(
      file,
      `line is ${overlong.length} bytes long, over the limit of ${maxLineBytes}`,
      {
        line: placeOfByte(bytes, overlong.start).line,
      },
    );
  try {
    return new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch (error) {
    const offset = firstInvalidUtf8(bytes);
    // Any other failure is not a bad byte: say what it was rather than point at one (the old "invalid
    // byte 0x00" at 1:1 was a string-length error read as an encoding error).
    if (offset < 0)
      throw new InputFileError(file, `cannot be read as text: ${String(error)}`, {}, { cause: error });
    const byte = bytes[offset] as number;
    throw new InputFileError(
      file,
      `not UTF-8 text: invalid byte 0x${byte.toString(16).padStart(2, "0")}`,
      placeOfByte(bytes, offset),
    );
  }
}
