// Reads a user's YAML or JSON file keeping where each value sits, and validates it against a zod schema:
// any problem becomes one InputFileError with the file, line:column and field path (`principles[3].id`).
import path from "node:path";
import {
  type Alias,
  type Document,
  isMap,
  isPair,
  isScalar,
  isSeq,
  LineCounter,
  type Node,
  parseDocument,
  visit,
} from "yaml";
import type { z } from "zod";
import { type FilePlace, InputFileError } from "../errors/input-file-error.js";
import { jsonSyntaxProblem, lineColumnAt } from "./json-syntax.js";
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

/**
 * Aliases one document may expand: a YAML "billion laughs" file (aliases of aliases of lists) is refused
 * at this count instead of filling memory. Hand-written constitutions use a handful.
 */
export const maxYamlAliasCount = 1000;

/**
 * Reads and parses a `.yaml`, `.yml` or `.json` file. A `.json` file must be JSON (a trailing comma or a
 * comment is an error with its line:column); it is then read as YAML, which JSON is a subset of, so that
 * every value keeps its place.
 */
export async function readStructuredFile(file: string): Promise<StructuredFile> {
  const extension = path.extname(file).toLowerCase();
  if (!(structuredFileExtensions as readonly string[]).includes(extension))
    throw new InputFileError(
      file,
      `cannot read "${extension || "(no extension)"}" files: use ${structuredFileExtensions.join(", ")}`,
    );
  return parseStructuredText(file, await readUserTextFile(file), { json: extension === ".json" });
}

/**
 * Parses YAML `text`, or with `json` strict JSON (then read as YAML for the places of its values); a
 * syntax error, an alias that points nowhere, too many aliases or an empty document is an InputFileError
 * naming `file` and the place.
 */
export function parseStructuredText(
  file: string,
  text: string,
  { json = false }: { json?: boolean } = {},
): StructuredFile {
  if (json) {
    const json = jsonSyntaxProblem(text);
    if (json)
      throw new InputFileError(file, `not valid JSON: ${json.problem}`, lineColumnAt(text, json.offset));
  }
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
  const value = documentValue(file, document, placeAt);
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

/**
 * The plain value of a parsed document. The yaml library finds bad aliases only here, and throws a bare
 * ReferenceError ("Unresolved alias", "Excessive alias count"): each becomes an InputFileError at the alias.
 */
function documentValue(file: string, document: Document, placeAt: (offset: number) => FilePlace): unknown {
  try {
    return document.toJS({ maxAliasCount: maxYamlAliasCount });
  } catch (error) {
    if (!(error instanceof ReferenceError)) throw error;
    let unresolved: Alias | undefined;
    let first: Alias | undefined;
    visit(document, {
      Alias(_key, alias) {
        first ??= alias;
        if (alias.resolve(document) === undefined) {
          unresolved = alias;
          return visit.BREAK;
        }
        return undefined;
      },
    });
    const at = (node: Alias | undefined) => (node?.range ? placeAt(node.range[0]) : {});
    if (unresolved) {
      const name = unresolved.source;
      throw new InputFileError(file, `alias *${name} has no anchor &${name} before it`, at(unresolved), {
        cause: error,
      });
    }
    throw new InputFileError(
      file,
      `too many aliases: the document expands more than ${maxYamlAliasCount} (an alias bomb?); write the values out instead`,
      at(first),
      { cause: error },
    );
  }
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
