// Reads a user's YAML or JSON file keeping where each value sits, and validates it against a zod schema:
// any problem becomes one InputFileError with the file, line:column and field path (`principles[3].id`).
import path from "node:path";
import { isMap, isPair, isScalar, isSeq, LineCounter, type Node, parseDocument } from "yaml";
import type { z } from "zod";
import { type FilePlace, InputFileError } from "../errors/input-file-error.js";
import { readUserTextFile } from "./text-file.js";
import { issueMessage, issueToReport, mostSpecificIssue } from "./zod-issue-message.js";

/** A parsed YAML or JSON file that can say where each of its values is. */
export interface StructuredFile {
  readonly file: string;
  /** The plain value (objects, arrays, strings, numbers, booleans, null). */
  readonly value: unknown;
  /**
   * Line and column of the value at `fieldPath`, or of its nearest ancestor that exists (for a missing
   * field, the object that lacks it). With `key`, the place of the last segment's key instead.
   */
  placeOf(fieldPath: readonly PropertyKey[], options?: { key?: boolean }): FilePlace;
}

/** File name endings {@link readStructuredFile} accepts. */
export const structuredFileExtensions = [".yaml", ".yml", ".json"] as const;

/** Reads and parses a `.yaml`, `.yml` or `.json` file (JSON is read as YAML, which it is a subset of). */
export async function readStructuredFile(file: string): Promise<StructuredFile> {
  const extension = path.extname(file).toLowerCase();
  if (!(structuredFileExtensions as readonly string[]).includes(extension))
    throw new InputFileError(
      file,
      `cannot read "${extension || "(no extension)"}" files: use ${structuredFileExtensions.join(", ")}`,
    );
  return parseStructuredText(file, await readUserTextFile(file));
}

/** Parses YAML or JSON `text`; a syntax error or an empty document is an InputFileError naming `file`. */
export function parseStructuredText(file: string, text: string): StructuredFile {
  const lineCounter = new LineCounter();
  const document = parseDocument(text, { lineCounter, prettyErrors: false });
  const placeAt = (offset: number): FilePlace => {
    const { line, col } = lineCounter.linePos(offset);
    return { line: Math.max(line, 1), column: Math.max(col, 1) };
  };
  const syntaxError = document.errors[0];
  if (syntaxError) {
    throw new InputFileError(file, `syntax error: ${syntaxError.message}`, placeAt(syntaxError.pos[0]), {
      cause: syntaxError,
    });
  }
  if (document.contents === null) throw new InputFileError(file, "the file is empty", { line: 1, column: 1 });
  const value: unknown = document.toJS({ maxAliasCount: 1000 });
  return {
    file,
    value,
    placeOf(fieldPath, options = {}) {
      let node: unknown = document.contents;
      let keyNode: unknown;
      for (const segment of fieldPath) {
        const child = childOf(node, segment);
        if (!child) break;
        node = child.value;
        keyNode = child.key;
      }
      const found = options.key && keyNode ? keyNode : node;
      const range = (found as Node | undefined)?.range;
      return range ? placeAt(range[0]) : {};
    },
  };
}

/** The key and value nodes of `segment` in a map or sequence node, if present. */
function childOf(node: unknown, segment: PropertyKey): { key: unknown; value: unknown } | undefined {
  if (isMap(node)) {
    const pair = node.items.find(
      (item) => isPair(item) && isScalar(item.key) && String(item.key.value) === String(segment),
    );
    return pair ? { key: pair.key, value: pair.value ?? pair.key } : undefined;
  }
  if (isSeq(node) && typeof segment === "number") {
    const item = node.items[segment];
    return item === undefined ? undefined : { key: item, value: item };
  }
  return undefined;
}

/** A field path as users write it: `principles[3].revision`. */
export function formatFieldPath(fieldPath: readonly PropertyKey[]): string {
  return fieldPath
    .map((segment, i) =>
      typeof segment === "number"
        ? `[${segment}]`
        : /^[A-Za-z_$][\w$-]*$/.test(String(segment))
          ? `${i === 0 ? "" : "."}${String(segment)}`
          : `[${JSON.stringify(String(segment))}]`,
    )
    .join("");
}

/** An InputFileError about the value at `fieldPath` of `source`, placed at its line and column. */
export function errorAt(
  source: StructuredFile,
  fieldPath: readonly PropertyKey[],
  problem: string,
  options: { key?: boolean } = {},
): InputFileError {
  const field = formatFieldPath(fieldPath);
  return new InputFileError(source.file, problem, {
    ...source.placeOf(fieldPath, options),
    ...(field ? { field } : {}),
  });
}

/**
 * The value of `source` parsed by `schema`, or an InputFileError for the first problem: its message,
 * the field path and the line:column of the offending value (of the key, for an unknown field).
 */
export function validateStructured<Schema extends z.ZodType>(
  source: StructuredFile,
  schema: Schema,
): z.output<Schema> {
  const result = schema.safeParse(source.value, { reportInput: true, error: issueMessage });
  if (result.success) return result.data;
  const first = issueToReport(result.error.issues);
  if (!first) throw new InputFileError(source.file, "invalid file");
  const { issue, path: issuePath } = mostSpecificIssue(first);
  const unknownKey = issue.code === "unrecognized_keys" ? issue.keys[0] : undefined;
  if (unknownKey === undefined) throw errorAt(source, issuePath, issue.message);
  throw errorAt(source, [...issuePath, unknownKey], issue.message, { key: true });
}
