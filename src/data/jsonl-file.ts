// JSON Lines files: read a user's file into parsed values with their line numbers (bad JSON becomes an
// InputFileError naming the line and column), and write values one per line (gzipped for `.gz`).
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { gzipSync } from "node:zlib";
import { InputFileError } from "../errors/input-file-error.js";
import { jsonSyntaxProblem } from "../io/json-syntax.js";
import { type ReadUserTextFileOptions, readUserTextFile } from "../io/text-file.js";

/** One parsed line of a JSON Lines file. */
export interface JsonLine {
  /** 1-based line number in the file. */
  line: number;
  value: unknown;
}

/**
 * Why a line is not JSON and the 1-based column: from the strict JSON scanner, which always has a place
 * ("trailing comma" at 12), else V8's message without its echo of the input.
 */
function describeJsonError(content: string, error: unknown): { reason: string; column?: number } {
  const found = jsonSyntaxProblem(content);
  if (found) return { reason: found.problem, column: found.offset + 1 };
  const message = error instanceof Error ? error.message : String(error);
  return {
    reason: message.replace(/, ".*" is not valid JSON$/s, "").replace(/ in JSON at position \d+.*$/s, ""),
  };
}

/**
 * The values of a JSON Lines file (gunzipped if it ends in `.gz`), skipping blank lines. A line that is
 * not JSON, bytes that are not UTF-8 or an over-long line give an InputFileError with the place.
 */
export async function readJsonLines(
  file: string,
  options: ReadUserTextFileOptions = {},
): Promise<JsonLine[]> {
  const text = await readUserTextFile(file, options);
  const values: JsonLine[] = [];
  for (const [index, raw] of text.split("\n").entries()) {
    const content = raw.endsWith("\r") ? raw.slice(0, -1) : raw;
    if (content.trim() === "") continue;
    try {
      values.push({ line: index + 1, value: JSON.parse(content) });
    } catch (error) {
      const { reason, column } = describeJsonError(content, error);
      throw new InputFileError(
        file,
        `not valid JSON: ${reason}`,
        { line: index + 1, column },
        { cause: error },
      );
    }
  }
  return values;
}

/** Writes `values` one JSON object per line, creating folders as needed; `.gz` files are gzipped. */
export async function writeJsonLines(file: string, values: readonly unknown[]): Promise<void> {
  const text = values.map((value) => `${JSON.stringify(value)}\n`).join("");
  await mkdir(path.dirname(path.resolve(file)), { recursive: true });
  await writeFile(file, file.endsWith(".gz") ? gzipSync(text) : text);
}
