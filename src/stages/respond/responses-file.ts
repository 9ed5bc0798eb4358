// The responses file: what `cai respond` writes (`<run dir>/responses.jsonl`) and what `cai label` and
// `cai eval` read. One JSON object per line, one line per prompt, sorted by id:
//
//   {"id": "rt-001", "kind": "red-team", "category": "violence", "split": "train",
//    "prompt": [{"role": "user", "content": "…"}],
//    "responses": [{"model": "llama:base.gguf", "sample": 0, "text": "…", "finishReason": "stop"}, …]}
//
// `prompt` is always a list of chat messages ending with a user message. `responses` holds every model's
// samples, models in the order given to `cai respond`, samples 0…K−1 within each; `model` is the spec
// string exactly as the user wrote it; `finishReason` is `stop` (turn ended) or `length` (max tokens).

import { rename } from "node:fs/promises";
import { z } from "zod";
import { readJsonLines, writeJsonLines } from "../../data/jsonl-file.js";
import { validateLines } from "../../data/validated-lines.js";
import type { ChatMessage, FinishReason } from "../../models/model.js";

/** One sampled response to a prompt. */
export interface SampledResponse {
  /** The model's spec string, as given. */
  model: string;
  /** 0-based sample index within this model's samples for the prompt. */
  sample: number;
  text: string;
  finishReason: FinishReason;
}

/** One line of a responses file: a prompt with every model's samples. */
export interface ResponsesRow {
  id: string;
  kind: "red-team" | "helpful";
  category: string;
  split: "train" | "test";
  prompt: ChatMessage[];
  responses: SampledResponse[];
}

const messageSchema = z.strictObject({
  role: z.enum(["system", "user", "assistant"]),
  content: z.string(),
});

/** The zod schema of one {@link ResponsesRow}; unknown fields are rejected, to catch typos. */
export const responsesRowSchema: z.ZodType<ResponsesRow> = z.strictObject({
  id: z.string().regex(/^\S+$/, "an id must be non-empty, without spaces"),
  kind: z.enum(["red-team", "helpful"]),
  category: z.string(),
  split: z.enum(["train", "test"]),
  prompt: z
    .array(messageSchema)
    .min(1)
    .refine((messages) => messages.at(-1)?.role === "user", "the conversation must end with a user message"),
  responses: z
    .array(
      z.strictObject({
        model: z.string().min(1),
        sample: z.int().min(0),
        text: z.string(),
        finishReason: z.enum(["stop", "length"]),
      }),
    )
    .min(1),
});

/**
 * Reads and validates a responses file. Bad JSON, a field that fails the schema, a repeated id or an
 * empty file give an InputFileError naming the line and field, e.g. `responses.jsonl:3 (responses[0].text): …`.
 */
export async function readResponsesFile(file: string): Promise<ResponsesRow[]> {
  return validateLines(file, await readJsonLines(file), responsesRowSchema, {
    empty: "no rows: the responses file is empty",
    idOf: (row) => row.id,
  });
}

/**
 * Writes rows as a responses file, sorted by id. The file is replaced whole (written beside it, then
 * renamed), so a reader never sees half of it.
 */
export async function writeResponsesFile(file: string, rows: readonly ResponsesRow[]): Promise<void> {
  const sorted = [...rows].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const partial = `${file}.partial`;
  await writeJsonLines(partial, sorted.map(orderedRow));
  await rename(partial, file);
}

/** A row with its fields in the documented order, so files read and diff well. */
function orderedRow(row: ResponsesRow): ResponsesRow {
  return {
    id: row.id,
    kind: row.kind,
    category: row.category,
    split: row.split,
    prompt: row.prompt.map(({ role, content }) => ({ role, content })),
    responses: row.responses.map(({ model, sample, text, finishReason }) => ({
      model,
      sample,
      text,
      finishReason,
    })),
  };
}
