// Prompt sets: the red-team and helpfulness prompts every Constitutional AI stage starts from. One
// record per JSONL line, validated with zod; problems name the file, line and field.

import { z } from "zod";
import { CaiError } from "../errors/cai-error.js";
import { InputFileError } from "../errors/input-file-error.js";
import type { ChatMessage } from "../models/model.js";
import { type JsonLine, readJsonLines, writeJsonLines } from "./jsonl-file.js";
import type { PromptSplit } from "./split.js";
import { validateLines } from "./validated-lines.js";

/** What a prompt is for: eliciting harm (red-team) or ordinary help (helpful). */
export type PromptKind = "red-team" | "helpful";
/** The kinds of prompt, in display order. */
export const promptKinds = ["red-team", "helpful"] as const satisfies readonly PromptKind[];

/** How a red-team prompt goes about its ask. */
export type PromptStyle = "direct" | "indirect" | "role-play" | "multi-turn" | "jailbreak";
/** The red-team styles, in display order. */
export const promptStyles = [
  "direct",
  "indirect",
  "role-play",
  "multi-turn",
  "jailbreak",
] as const satisfies readonly PromptStyle[];

/** One prompt of a prompt set. */
export interface PromptRecord {
  /** Unique in its set and stable across versions, e.g. `rt-violence-weapons-007`. */
  id: string;
  kind: PromptKind;
  /** e.g. `violence-weapons`, `self-harm`, `coding`, `benign-looks-risky`. */
  category: string;
  /** Fixed and stored in the file, so every run trains and tests on the same prompts. */
  split: PromptSplit;
  /** A single user message, or a conversation that ends with a user message. */
  prompt: string | ChatMessage[];
  /** Red-team prompts only. */
  style?: PromptStyle;
  /** Where the prompt came from: `cai` for this project's sets, or the imported file's name. */
  source?: string;
}

const chatMessageSchema = z.strictObject({
  role: z.enum(["system", "user", "assistant"]),
  content: z.string(),
});

const nonBlank = (what: string) => z.string().refine((text) => text.trim() !== "", `${what} is empty`);

const conversationSchema = z
  .array(chatMessageSchema)
  .min(1, "the conversation has no messages")
  .superRefine((messages, context) => {
    for (const [index, message] of messages.entries()) {
      if (message.role === "system" && index > 0)
        context.addIssue({
          code: "custom",
          path: [index, "role"],
          message: "only the first message may be a system message",
        });
    }
    const lastIndex = messages.length - 1;
    const last = messages[lastIndex];
    if (last && last.role !== "user")
      context.addIssue({
        code: "custom",
        path: [lastIndex, "role"],
        message: "the conversation must end with a user message",
      });
    else if (last && last.content.trim() === "")
      context.addIssue({
        code: "custom",
        path: [lastIndex, "content"],
        message: "the last user message is empty",
      });
  });

/** The zod schema of one {@link PromptRecord}: unknown fields are rejected, to catch typos. */
export const promptRecordSchema: z.ZodType<PromptRecord> = z
  .strictObject({
    id: z.string().regex(/^\S+$/, "an id must be non-empty, without spaces"),
    kind: z.enum(promptKinds),
    category: nonBlank("the category"),
    split: z.enum(["train", "test"]),
    prompt: z.union([nonBlank("the prompt"), conversationSchema], {
      error: "expected a string or a list of {role, content} messages",
    }),
    style: z.enum(promptStyles).optional(),
    source: nonBlank("the source").optional(),
  })
  .superRefine((record, context) => {
    if (record.style !== undefined && record.kind !== "red-team")
      context.addIssue({ code: "custom", path: ["style"], message: "only red-team prompts have a style" });
    if (record.style === "multi-turn" && typeof record.prompt === "string")
      context.addIssue({
        code: "custom",
        path: ["prompt"],
        message: "a multi-turn prompt must be a list of messages",
      });
  });

/**
 * Validates parsed lines as prompt records: the first schema problem or repeated id becomes an
 * InputFileError naming the line (and, for a repeated id, the line that used it first).
 */
export function validatePromptLines(file: string, lines: readonly JsonLine[]): PromptRecord[] {
  return validateLines(file, lines, promptRecordSchema, {
    empty: "no prompts: the prompt set is empty",
    idOf: (record) => record.id,
  });
}

/** True for a parsed row meant as a cai prompt record: an object that names its kind and split. */
export function isPromptRecordRow(value: unknown): boolean {
  return typeof value === "object" && value !== null && "kind" in value && "split" in value;
}

/**
 * Loads a prompt set (JSONL, optionally gzipped). Bad JSON, a field that fails validation, a repeated id
 * or an empty file throw an InputFileError, e.g. `prompts.jsonl:17 (prompt[2].role): …`; a file whose
 * rows are not prompt records at all (`{"prompt": …}` alone) says how to use or convert it.
 */
export async function loadPromptSet(file: string): Promise<PromptRecord[]> {
  const lines = await readJsonLines(file);
  const first = lines[0];
  const isObject = typeof first?.value === "object" && first.value !== null && !Array.isArray(first.value);
  if (first && isObject && !isPromptRecordRow(first.value))
    throw new InputFileError(
      file,
      `not a cai prompt set: its rows do not name a kind and a split; \`--prompts ${file}\` reads such rows as they are, \`cai prompts import ${file} --format jsonl --out prompts.jsonl\` converts them`,
      { line: first.line },
    );
  return validatePromptLines(file, lines);
}

/** A record with its fields in a fixed order, the prompt last, so files read and diff well. */
function orderedRecord(record: PromptRecord): PromptRecord {
  const { id, kind, category, split, style, source, prompt } = record;
  return {
    id,
    kind,
    category,
    split,
    ...(style === undefined ? {} : { style }),
    ...(source === undefined ? {} : { source }),
    prompt,
  };
}

/**
 * Writes a prompt set as JSONL (gzipped for `.gz`). The records are validated first, as
 * {@link loadPromptSet} would: an invalid or empty set is refused rather than written.
 */
export async function writePromptSet(file: string, records: readonly PromptRecord[]): Promise<void> {
  try {
    validatePromptLines(
      file,
      records.map((value, index) => ({ line: index + 1, value })),
    );
  } catch (error) {
    if (InputFileError.isInstance(error))
      throw new CaiError(`refusing to write an invalid prompt set: ${error.message}`, { cause: error });
    throw error;
  }
  await writeJsonLines(file, records.map(orderedRecord));
}

/** The conversation a model is given for a record: a string prompt becomes one user message. */
export function promptMessages(record: Pick<PromptRecord, "prompt">): ChatMessage[] {
  return typeof record.prompt === "string"
    ? [{ role: "user", content: record.prompt }]
    : record.prompt.map((message) => ({ ...message }));
}
