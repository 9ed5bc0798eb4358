// Where the prompt is in rows as people have them: `{"prompt": …}`, `{"question": …}`, AdvBench's `goal`,
// StrongREJECT's `forbidden_prompt`, Alpaca's `instruction` (+ `input`), chat `messages`, hh-rlhf
// `chosen` and red-team `transcript` transcripts, or a bare string per line; CSV headers likewise.
import { z } from "zod";
import { InputFileError } from "../errors/input-file-error.js";
import { describeValue } from "../io/zod-issue-message.js";
import type { ChatMessage } from "../models/model.js";
import { parseHhTranscript } from "./importers/hh-rlhf.js";
import { checkSchema } from "./schema-issue.js";

/** Fields that hold the prompt, in the order they are looked for. */
export const promptFieldNames = [
  "prompt",
  "messages",
  "question",
  "instruction",
  "goal",
  "forbidden_prompt",
  "text",
  "chosen",
  "transcript",
] as const;

/** CSV/TSV headers that hold the prompt (cells are text, so no messages or transcripts). */
export const promptColumnNames = [
  "prompt",
  "question",
  "instruction",
  "goal",
  "forbidden_prompt",
  "text",
] as const;

/** Messages as they appear in others' files: extra keys (`name`, `weight`…) are allowed and dropped. */
const messagesSchema = z.array(
  z.looseObject({ role: z.enum(["system", "user", "assistant"]), content: z.string() }),
);

/**
 * A prompt field's value as a prompt: a string, or a list of messages (trailing assistant turns dropped,
 * so it ends with the user's turn). Anything else is an InputFileError naming the line and field.
 */
export function promptOfValue(
  file: string,
  line: number,
  field: string,
  value: unknown,
): string | ChatMessage[] {
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

/** The command that converts a file cai cannot read as prompts, for error messages. */
export function importCommandHint(file: string, format: "jsonl" | "csv"): string {
  const mapping = format === "jsonl" ? "--field PATH" : "--prompt-column NAME";
  return `convert it with \`cai prompts import ${file} --format ${format} ${mapping} --out prompts.jsonl\``;
}

/** A prompt read from a row, and the field it came from (for messages and errors). */
export interface RowPrompt {
  prompt: string | ChatMessage[];
  /** The field it was read from, e.g. `goal`; `(line)` for a bare string. */
  field: string;
  /** Whether errors about the prompt may index into it (`messages[2].role`). */
  isList: boolean;
}

/** The first human turn of an hh-rlhf transcript (as `cai prompts import --format hh-rlhf` takes it). */
function firstHumanTurn(file: string, line: number, field: string, text: string): string {
  const turns = parseHhTranscript(text);
  if (typeof turns === "string") throw new InputFileError(file, turns, { line, field });
  return turns[0]?.content ?? "";
}

/**
 * The prompt of one parsed JSONL row: a bare string, or the first of {@link promptFieldNames} the object
 * has. A row with none is an InputFileError that names the fields looked for and the import command.
 */
export function promptOfRow(file: string, line: number, value: unknown): RowPrompt {
  if (typeof value === "string") return { prompt: value, field: "(line)", isList: false };
  const row = typeof value === "object" && value !== null && !Array.isArray(value) ? value : undefined;
  const field = row && promptFieldNames.find((name) => Object.hasOwn(row, name));
  if (!row || field === undefined)
    throw new InputFileError(
      file,
      `no prompt in this row: expected a string or an object with one of the fields ${promptFieldNames.join(", ")}; ${importCommandHint(file, "jsonl")}`,
      { line },
    );
  const found = (row as Record<string, unknown>)[field];
  if ((field === "chosen" || field === "transcript") && typeof found === "string")
    return { prompt: firstHumanTurn(file, line, field, found), field, isList: false };
  if (field === "instruction" && typeof found === "string") {
    // Alpaca: the instruction, and the input it works on when there is one.
    const input = (row as Record<string, unknown>).input;
    const extra = typeof input === "string" && input.trim() !== "" ? `\n\n${input}` : "";
    return { prompt: `${found}${extra}`, field, isList: false };
  }
  return { prompt: promptOfValue(file, line, field, found), field, isList: Array.isArray(found) };
}

/** The prompt column of a CSV header: the first of {@link promptColumnNames} it has. */
export function promptColumnOf(header: readonly string[]): string | undefined {
  return promptColumnNames.find((name) => header.includes(name));
}
