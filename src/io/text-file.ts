// Reads a user's text file (constitution, prompt set, config) strictly: missing files, bytes that are
// not UTF-8 and absurdly long lines become one InputFileError naming the file and place.
import { readFile } from "node:fs/promises";
import { gunzipSync } from "node:zlib";
import { InputFileError } from "../errors/input-file-error.js";

/** Options of {@link readUserTextFile}. */
export interface ReadUserTextFileOptions {
  /** Longest line accepted, in bytes. Default 1 MiB. */
  maxLineBytes?: number;
}

/** 1-based line and column of a byte offset in `bytes`. */
export function placeOfByte(bytes: Uint8Array, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset && i < bytes.length; i += 1) {
    if (bytes[i] === 0x0a) {
      line += 1;
      lineStart = i + 1;
    }
  }
  return { line, column: offset - lineStart + 1 };
}

/** Byte offset of the first invalid UTF-8 sequence, or -1. */
function firstInvalidUtf8(bytes: Uint8Array): number {
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i] ?? 0;
    const length =
      b < 0x80 ? 1 : b >= 0xc2 && b < 0xe0 ? 2 : b >= 0xe0 && b < 0xf0 ? 3 : b >= 0xf0 && b < 0xf5 ? 4 : 0;
    if (length === 0 || i + length > bytes.length) return i;
    try {
      new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(i, i + length));
    } catch {
      return i;
    }
    i += length;
  }
  return -1;
}

/**
 * The text of `file` (gunzipped if it ends in `.gz`), or an InputFileError: no such file, not UTF-8
 * (with the line and column of the first bad byte), or a line over the limit.
 */
export async function readUserTextFile(file: string, options: ReadUserTextFileOptions = {}): Promise<string> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(file);
    if (file.endsWith(".gz")) bytes = gunzipSync(bytes);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const problem =
      code === "ENOENT" ? "no such file" : code === "EISDIR" ? "is a folder, not a file" : String(error);
    throw new InputFileError(file, problem, {}, { cause: error });
  }
  const maxLineBytes = options.maxLineBytes ?? 1024 * 1024;
  let lineStart = 0;
  let line = 1;
  for (let i = 0; i <= bytes.length; i += 1) {
    if (i === bytes.length || bytes[i] === 0x0a) {
      if (i - lineStart > maxLineBytes) {
        throw new InputFileError(
          file,
          `line is ${i - lineStart} bytes long, over the limit of ${maxLineBytes}`,
          {
            line,
          },
        );
      }
      line += 1;
      lineStart = i + 1;
    }
  }
  try {
    return new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    const offset = firstInvalidUtf8(bytes);
    const place = placeOfByte(bytes, Math.max(offset, 0));
    const byte = bytes[offset] ?? 0;
    throw new InputFileError(
      file,
      `not UTF-8 text: invalid byte 0x${byte.toString(16).padStart(2, "0")}`,
      place,
    );
  }
}
