// Preference datasets for DPO and the preference model: JSONL rows of one prompt and two answers, the
// chosen one better, in the layouts people have them in, each read into one shape (`PreferenceRow`):
//   - TRL, explicit prompt:   {"prompt": [messages] | "text", "chosen": [messages] | "text", "rejected": …}
//     (what `cai export --format preference` writes; plain strings are a user turn and assistant answers;
//     chosen/rejected that repeat the prompt before their answer, as UltraFeedback's do, are read once)
//   - TRL, implicit prompt:   {"chosen": [whole conversation], "rejected": [whole conversation]}
//     (`cai export --format cai-conversation`; the shared opening is the prompt)
//   - Anthropic hh-rlhf:      {"chosen": "\n\nHuman: …\n\nAssistant: …", "rejected": "…"}
//   - OpenAI preference:      {"input": {"messages": […]}, "preferred_output": [...], "non_preferred_output": [...]}
// A soft label `p_chosen` ∈ [0, 1] (what `cai label` writes: the AI feedback model's probability that the
// chosen answer is better) becomes the pair's target; without it the target is 1.
import { parseHhTranscript } from "../../data/importers/hh-rlhf.js";
import { readJsonLines } from "../../data/jsonl-file.js";
import { CaiError } from "../../errors/cai-error.js";
import { InputFileError } from "../../errors/input-file-error.js";
import type { LlamaPromptRenderer } from "../../models/llama/llama-prompt.js";
import type { ChatMessage } from "../../models/model.js";
import type { DataLoader } from "../loop/training-run.js";
import type { DpoPair } from "../objectives/dpo.js";
import { chatMessagesOf, type RowFailure, rowFailure } from "./chat-rows.js";
import { sftExampleFromMessages } from "./chat-tokens.js";

/** One preference: a conversation so far and two final assistant answers. */
export interface PreferenceRow {
  /** 1-based line in the file. */
  readonly line: number;
  /** The conversation before the answers (ends with a user or system message). */
  readonly prompt: readonly ChatMessage[];
  readonly chosen: string;
  readonly rejected: string;
  /** Probability that `chosen` is better: `p_chosen` when the row has it, else 1. */
  readonly target: number;
}

/** A conversation from messages or an hh-rlhf transcript string. */
function conversationOf(value: unknown, field: string, fail: RowFailure): ChatMessage[] {
  if (typeof value !== "string") return chatMessagesOf(value, field, fail);
  const parsed = parseHhTranscript(value);
  return typeof parsed === "string" ? fail(parsed, field) : parsed;
}

/** The final assistant answer of `messages` and what came before it. */
function splitAnswer(messages: ChatMessage[], field: string, fail: RowFailure): [ChatMessage[], string] {
  const last = messages.at(-1);
  if (last?.role !== "assistant") return fail("must end with an assistant message", field);
  // An empty answer stays: a pair that prefers an answer to saying nothing teaches something.
  return [messages.slice(0, -1), last.content];
}

const sameMessages = (a: readonly ChatMessage[], b: readonly ChatMessage[]): boolean =>
  a.length === b.length && a.every((m, i) => m.role === b[i]?.role && m.content === b[i]?.content);

/** Prompt + answers of a row whose chosen/rejected are whole conversations (implicit prompt). */
function implicit(
  chosenValue: unknown,
  rejectedValue: unknown,
  fail: RowFailure,
): [ChatMessage[], string, string] {
  const [prompt, chosen] = splitAnswer(conversationOf(chosenValue, "chosen", fail), "chosen", fail);
  const [other, rejected] = splitAnswer(conversationOf(rejectedValue, "rejected", fail), "rejected", fail);
  if (!sameMessages(prompt, other))
    return fail("chosen and rejected must share the conversation before their final answers", "rejected");
  return [prompt, chosen, rejected];
}

/** One side of an explicit-prompt row: a string answer, or messages ending with the answer. */
function answerOf(value: unknown, field: string, fail: RowFailure): [ChatMessage[], string] {
  if (typeof value === "string") return [[], value];
  return splitAnswer(chatMessagesOf(value, field, fail), field, fail);
}

/** The row of one parsed JSONL value, or an InputFileError naming the line and field. */
export function preferenceRowOf(file: string, line: number, value: unknown): PreferenceRow {
  const fail = rowFailure(file, line);
  if (typeof value !== "object" || value === null || Array.isArray(value))
    return fail("expected an object with chosen and rejected answers");
  const row = value as Record<string, unknown>;
  let prompt: ChatMessage[];
  let chosen: string;
  let rejected: string;
  if ("preferred_output" in row || "non_preferred_output" in row) {
    const input = row.input as { messages?: unknown } | undefined;
    prompt = chatMessagesOf(input?.messages, "input.messages", fail);
    [, chosen] = answerOf(row.preferred_output, "preferred_output", fail);
    [, rejected] = answerOf(row.non_preferred_output, "non_preferred_output", fail);
  } else if (!("chosen" in row) && ("messages" in row || "completion" in row || "conversations" in row))
    return fail(
      "a conversation, not a preference pair: `cai train sft` takes it; a pair needs chosen and rejected answers",
    );
  else if (!("chosen" in row)) return fail("expected a chosen answer", "chosen");
  else if (!("rejected" in row)) return fail("expected a rejected answer", "rejected");
  else if (row.prompt === undefined) [prompt, chosen, rejected] = implicit(row.chosen, row.rejected, fail);
  else {
    prompt =
      typeof row.prompt === "string"
        ? [{ role: "user", content: row.prompt }]
        : chatMessagesOf(row.prompt, "prompt", fail);
    const [chosenTurns, chosenAnswer] = answerOf(row.chosen, "chosen", fail);
    const [rejectedTurns, rejectedAnswer] = answerOf(row.rejected, "rejected", fail);
    if (!sameMessages(chosenTurns, rejectedTurns))
      return fail("chosen and rejected must differ only in their final answers", "rejected");
    // UltraFeedback-style rows repeat the prompt at the start of each side: the prompt once, not twice.
    const repeated = sameMessages(chosenTurns.slice(0, prompt.length), prompt);
    prompt = [...prompt, ...(repeated ? chosenTurns.slice(prompt.length) : chosenTurns)];
    chosen = chosenAnswer;
    rejected = rejectedAnswer;
  }
  if (prompt.length === 0 || prompt.at(-1)?.role === "assistant")
    return fail("the prompt must end with a user or system message", "prompt");
  let target = 1;
  if (row.p_chosen !== undefined) {
    const p = row.p_chosen;
    if (typeof p !== "number" || !(p >= 0 && p <= 1))
      return fail("p_chosen must be a probability between 0 and 1", "p_chosen");
    target = p;
  }
  return { line, prompt, chosen, rejected, target };
}

/** Every preference row of a JSONL file (see the header for the layouts). Throws InputFileError. */
export async function readPreferenceRows(file: string): Promise<PreferenceRow[]> {
  const lines = await readJsonLines(file);
  if (lines.length === 0) throw new InputFileError(file, "it holds no preference pairs");
  return lines.map(({ line, value }) => preferenceRowOf(file, line, value));
}

/**
 * The tokenised pair of `row`, each side rendered as inference renders it (chat template), its loss mask
 * on the answer and on `endOfTurn`. Throws CaiError when an answer has no tokens (the loader names the line).
 */
export function preferencePair(
  renderer: LlamaPromptRenderer,
  row: PreferenceRow,
  endOfTurn: readonly number[] = [],
): DpoPair {
  const side = (answer: string) =>
    sftExampleFromMessages(renderer, [...row.prompt, { role: "assistant", content: answer }], { endOfTurn });
  return { chosen: side(row.chosen), rejected: side(row.rejected), target: row.target };
}

/** What a loader does with one tokenised pair that may be too long: keep it (maybe cut, with a note) or skip it. */
export type PairFit = (
  pair: DpoPair,
  maxLength: number,
) => { pair: DpoPair; note?: string } | { skip: string };

/**
 * A {@link DataLoader} of preference files: every row read and tokenised (errors name the line), then
 * `fitPair` to the length limit; the loader warns about cut and skipped rows and refuses a file left empty.
 */
export function preferencePairLoader(fitPair: PairFit): DataLoader<DpoPair> {
  return async (file, tokenizer, maxLength, warn) => {
    const examples: DpoPair[] = [];
    let skipped = 0;
    for (const row of await readPreferenceRows(file)) {
      let pair: DpoPair;
      try {
        pair = preferencePair(tokenizer.renderer, row, tokenizer.endOfTurn);
      } catch (error) {
        if (!CaiError.isInstance(error)) throw error;
        throw new InputFileError(file, error.message, { line: row.line }, { cause: error });
      }
      const fitted = fitPair(pair, maxLength);
      if ("skip" in fitted) {
        warn(`${file}:${row.line}: skipped, ${fitted.skip}`);
        skipped += 1;
        continue;
      }
      if (fitted.note !== undefined) warn(`${file}:${row.line}: ${fitted.note}`);
      examples.push(fitted.pair);
    }
    if (examples.length === 0) throw new InputFileError(file, "no preference pair fits --max-length");
    return { examples, skipped };
  };
}
