// SL-CAI datasets from revision traces, as JSONL that Hugging Face `datasets`, TRL and OpenAI
// fine-tuning load as they are: SFT conversations, preferences (revision ≻ draft), the columns of
// HuggingFaceH4/cai-conversation-harmless, OpenAI's SFT and preference formats, and the full trace.
import type { ChatMessage } from "../models/model.js";
import type { RevisionTrace } from "../stages/revise/revise-record.js";

/** Export formats of `cai export`. */
export const revisionFormats = [
  "sft",
  "preference",
  "cai-conversation",
  "openai-sft",
  "openai-preference",
  "trace",
] as const;
export type RevisionFormat = (typeof revisionFormats)[number];

/** A revised prompt with what the run knows about it. */
export interface RevisedRecord {
  id: string;
  kind: string;
  category: string;
  split: "train" | "test";
  trace: RevisionTrace;
}

const assistant = (content: string): ChatMessage => ({ role: "assistant", content });

/** Whether a format pairs revision ≻ draft (a pair whose two sides are equal teaches nothing and is left out). */
export function isPreferenceFormat(format: RevisionFormat): boolean {
  return format === "preference" || format === "cai-conversation" || format === "openai-preference";
}

/** The dataset row for one record in `format`, or undefined when the record has no place in it. */
export function revisionRow(record: RevisedRecord, format: RevisionFormat): object | undefined {
  const { trace } = record;
  const prompt = trace.prompt;
  if (isPreferenceFormat(format) && trace.revision === trace.draft) return undefined;
  switch (format) {
    case "sft":
      return { messages: [...prompt, assistant(trace.revision)] };
    case "openai-sft":
      return { messages: [...prompt, assistant(trace.revision)] };
    case "preference":
      return { prompt, chosen: [assistant(trace.revision)], rejected: [assistant(trace.draft)] };
    case "openai-preference":
      return {
        input: { messages: prompt },
        preferred_output: [assistant(trace.revision)],
        non_preferred_output: [assistant(trace.draft)],
      };
    case "cai-conversation": {
      // One critique → revision exchange per row, as in Hugging Face's dataset: the last round that revised.
      const round = [...trace.rounds].reverse().find((r) => r.outcome === "revised") ?? trace.rounds.at(-1);
      const text = prompt.map((m) => m.content).join("\n\n");
      return {
        init_prompt: text,
        init_response: trace.draft,
        critic_prompt: round?.critiqueMessages.at(-1)?.content ?? "",
        critic_response: round?.critique ?? "",
        revision_prompt: round?.revisionMessages?.at(-1)?.content ?? "",
        revision_response: trace.revision,
        prompt: text,
        messages: [...prompt, assistant(trace.revision)],
        chosen: [...prompt, assistant(trace.revision)],
        rejected: [...prompt, assistant(trace.draft)],
      };
    }
    case "trace":
      return { id: record.id, kind: record.kind, category: record.category, split: record.split, ...trace };
  }
}

/**
 * The trace as it stood after `rounds` critique → revision rounds (the paper's "SL-CAI after n revisions"):
 * later rounds dropped, the final answer that round's revision (the draft after 0 rounds). A trace with
 * fewer rounds is returned as it is.
 */
export function traceAtRound(trace: RevisionTrace, rounds: number): RevisionTrace {
  if (!(Number.isInteger(rounds) && rounds >= 0))
    throw new RangeError(`rounds must be a whole number ≥ 0, not ${rounds}`);
  if (rounds >= trace.rounds.length) return trace;
  const kept = trace.rounds.slice(0, rounds);
  return { ...trace, rounds: kept, revision: kept.at(-1)?.revision ?? trace.draft };
}

/** JSONL text of the records in `format` (records sorted by id, so the file is stable). */
export function revisionJsonl(
  records: RevisedRecord[],
  format: RevisionFormat,
): { text: string; rows: number } {
  const rows = [...records]
    .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
    .map((r) => revisionRow(r, format))
    .filter((row) => row !== undefined);
  return {
    text: rows.map((row) => JSON.stringify(row)).join("\n") + (rows.length ? "\n" : ""),
    rows: rows.length,
  };
}
