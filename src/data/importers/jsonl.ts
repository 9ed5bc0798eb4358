// Imports prompts from any JSONL file, given the dotted path of the field holding the prompt: a string,
// or a list of {role, content} messages (OpenAI/TRL `messages`, ShareGPT-like conversations).
import { z } from "zod";
import { InputFileError } from "../../errors/input-file-error.js";
import { formatFieldPath } from "../../io/structured-file.js";
import { describeValue } from "../../io/zod-issue-message.js";
import type { ChatMessage } from "../../models/model.js";
import { type FieldPathSegment, parseFieldPath, valueAtPath } from "../field-path.js";
import { type JsonLine, readJsonLines } from "../jsonl-file.js";
import { checkSchema } from "../schema-issue.js";
import {
  finishImport,
  type ImportedPrompt,
  type PromptImportOptions,
  type PromptImportResult,
} from "./finish-import.js";

/** Options of {@link importJsonl}. */
export interface JsonlImportOptions extends PromptImportOptions {
  /** Path of the prompt: `prompt`, `messages`, `conversation.0.content` (array indices as numbers). */
  field: string;
  /** Path of an id (string or number); without it ids are `<file stem>-<line>`. */
  idField?: string;
  /** Path of a category (slugged: `Hate speech` → `hate-speech`). */
  categoryField?: string;
}

/** Messages as they appear in others' files: extra keys (`name`, `weight`…) are allowed and dropped. */
const messagesSchema = z.array(
  z.looseObject({ role: z.enum(["system", "user", "assistant"]), content: z.string() }),
);

/** A field of one line, which must be there. */
function required(file: string, { line, value }: JsonLine, path: FieldPathSegment[]): unknown {
  const found = valueAtPath(value, path);
  if (!found.found)
    throw new InputFileError(file, "required field is missing", { line, field: formatFieldPath(path) });
  return found.value;
}

/** A string or a list of messages (trailing assistant turns dropped, so it ends with the user's turn). */
function promptOf(file: string, line: number, field: string, value: unknown): string | ChatMessage[] {
  if (typeof value === "string") return value;
  if (!Array.isArray(value))
    throw new InputFileError(
      file,
      `expected a string or a list of {role, content} messages, got ${describeValue(value)}`,
      { line, field },
    );
  const parsed = checkSchema(messagesSchema, value);
  if (!parsed.success)
    throw new InputFileError(file, parsed.problem, { line, field: `${field}${parsed.field ?? ""}` });
  const messages = parsed.data.map(({ role, content }) => ({ role, content }));
  while (messages.length > 0 && messages.at(-1)?.role === "assistant") messages.pop();
  return messages;
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

/**
 * Reads a JSONL file (optionally gzipped) into prompt records, one per distinct prompt. A line without
 * the field, or with a value of the wrong shape, throws an InputFileError naming the line and field.
 */
export async function importJsonl(file: string, options: JsonlImportOptions): Promise<PromptImportResult> {
  const promptPath = parseFieldPath(options.field);
  const promptField = formatFieldPath(promptPath);
  const idPath = options.idField === undefined ? undefined : parseFieldPath(options.idField);
  const categoryPath =
    options.categoryField === undefined ? undefined : parseFieldPath(options.categoryField);
  const prompts = (await readJsonLines(file)).map((entry): ImportedPrompt => {
    const prompt = promptOf(file, entry.line, promptField, required(file, entry, promptPath));
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
