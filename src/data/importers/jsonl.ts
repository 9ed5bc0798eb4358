// Imports prompts from any JSONL file: given the dotted path of the field holding the prompt (a string,
// or a list of {role, content} messages: OpenAI/TRL `messages`, ShareGPT-like conversations), or without
// one from rows as people have them (`{"prompt": …}`, `{"goal": …}`, … — see prompt-fields.ts), whose own
// `id`, `kind`, `category` and `split` are kept.
import { InputFileError } from "../../errors/input-file-error.js";
import { formatFieldPath } from "../../io/structured-file.js";
import { describeValue } from "../../io/zod-issue-message.js";
import { type FieldPathSegment, parseFieldPath, valueAtPath } from "../field-path.js";
import { type JsonLine, readJsonLines } from "../jsonl-file.js";
import { promptOfRow, promptOfValue } from "../prompt-fields.js";
import {
  finishImport,
  type ImportedPrompt,
  type PromptImportOptions,
  type PromptImportResult,
} from "./finish-import.js";

/** Options of {@link importJsonl}. */
export interface JsonlImportOptions extends PromptImportOptions {
  /**
   * Path of the prompt: `prompt`, `messages`, `conversation.0.content` (array indices as numbers).
   * Without it, each row's prompt is found by name (`prompt`, `question`, `goal`, …) and its own `id`,
   * `kind`, `category` and `split` fields are used when present.
   */
  field?: string;
  /** Path of an id (string or number); without it ids are `<file stem>-<line>`. */
  idField?: string;
  /** Path of a category (slugged: `Hate speech` → `hate-speech`). */
  categoryField?: string;
}

/** A field of one line, which must be there. */
function required(file: string, { line, value }: JsonLine, path: FieldPathSegment[]): unknown {
  const found = valueAtPath(value, path);
  if (!found.found)
    throw new InputFileError(file, "required field is missing", { line, field: formatFieldPath(path) });
  return found.value;
}

/** An optional id or category field: a string, or (for ids) a number. */
function labelOf(file: string, entry: JsonLine, path: FieldPathSegment[] | undefined): string | undefined {
  if (path === undefined) return undefined;
  const value = required(file, entry, path);
  if (typeof value === "string" || typeof value === "number") return String(value);
  throw new InputFileError(file, `expected a string or a number, got ${describeValue(value)}`, {
    line: entry.line,
    field: formatFieldPath(path),
  });
}

/** A field the row may have, as a string (numbers too, for ids); another type is an InputFileError. */
function ownLabel(file: string, entry: JsonLine, key: string, numbers: boolean): string | undefined {
  const value = valueAtPath(entry.value, [key]);
  if (!value.found || value.value === null) return undefined;
  if (typeof value.value === "string" || (numbers && typeof value.value === "number"))
    return String(value.value);
  throw new InputFileError(
    file,
    `expected a string${numbers ? " or a number" : ""}, got ${describeValue(value.value)}`,
    { line: entry.line, field: key },
  );
}

/** A row as people have it: the prompt found by name, and the row's own id, kind, category and split. */
function peoplesRow(file: string, entry: JsonLine): ImportedPrompt & { field: string; isList: boolean } {
  const { prompt, field, isList } = promptOfRow(file, entry.line, entry.value);
  const own = {
    id: ownLabel(file, entry, "id", true),
    category: ownLabel(file, entry, "category", false),
    kind: ownLabel(file, entry, "kind", false),
    split: ownLabel(file, entry, "split", false),
  };
  const defined = Object.fromEntries(Object.entries(own).filter(([, value]) => value !== undefined));
  return { line: entry.line, prompt, field, isList, ...defined };
}

/**
 * Reads a JSONL file (optionally gzipped) into prompt records, one per distinct prompt. A line without
 * the field, or with a value of the wrong shape, throws an InputFileError naming the line and field.
 */
export async function importJsonl(file: string, options: JsonlImportOptions): Promise<PromptImportResult> {
  return importJsonLines(file, await readJsonLines(file), options);
}

/** {@link importJsonl} over lines already read from `file`. */
export function importJsonLines(
  file: string,
  lines: readonly JsonLine[],
  options: JsonlImportOptions,
): PromptImportResult {
  if (options.field === undefined) {
    const rows = lines.map((entry) => peoplesRow(file, entry));
    const fields = new Set(rows.map((row) => row.field));
    const [only] = fields;
    return finishImport(file, rows, options, {
      prompt: fields.size === 1 && only !== undefined ? only : "prompt",
      promptIsList: rows.some((row) => row.isList),
    });
  }
  const promptPath = parseFieldPath(options.field);
  const promptField = formatFieldPath(promptPath);
  const idPath = options.idField === undefined ? undefined : parseFieldPath(options.idField);
  const categoryPath =
    options.categoryField === undefined ? undefined : parseFieldPath(options.categoryField);
  const prompts = lines.map((entry): ImportedPrompt => {
    const prompt = promptOfValue(file, entry.line, promptField, required(file, entry, promptPath));
    const id = labelOf(file, entry, idPath);
    const category = labelOf(file, entry, categoryPath);
    return {
      line: entry.line,
      prompt,
      ...(id === undefined ? {} : { id }),
      ...(category === undefined ? {} : { category }),
    };
  });
  return finishImport(file, prompts, options, {
    prompt: promptField,
    promptIsList: true,
    ...(idPath === undefined ? {} : { id: formatFieldPath(idPath) }),
    ...(categoryPath === undefined ? {} : { category: formatFieldPath(categoryPath) }),
  });
}
