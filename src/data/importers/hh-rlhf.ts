// Imports prompts from Anthropic hh-rlhf transcripts: JSONL (optionally gzipped) whose `chosen` holds a
// conversation written as "\n\nHuman: … \n\nAssistant: …".

import { InputFileError } from "../../errors/input-file-error.js";
import { describeValue } from "../../io/zod-issue-message.js";
import type { ChatMessage } from "../../models/model.js";
import { readJsonLines } from "../jsonl-file.js";
import {
  finishImport,
  type ImportedPrompt,
  type PromptImportOptions,
  type PromptImportResult,
} from "./finish-import.js";

/** Which part of each transcript becomes the prompt. */
export type HhRlhfTurns = "first" | "context";

/** Options of {@link importHhRlhf}. */
export interface HhRlhfImportOptions extends PromptImportOptions {
  /**
   * `first` (default): the first human turn, as a string prompt. `context`: the conversation up to the
   * final assistant turn (excluded), as messages ending with the last human turn.
   */
  turns?: HhRlhfTurns;
}

const speakerMarker = /(?:^|\n\n)(Human|Assistant):/g;

/**
 * The turns of an hh-rlhf transcript, or a sentence saying why it is not one: it must start with a
 * `Human:` turn, and speakers are marked by `\n\nHuman:` and `\n\nAssistant:`.
 */
export function parseHhTranscript(text: string): ChatMessage[] | string {
  const markers = [...text.matchAll(speakerMarker)];
  const first = markers[0];
  if (!first) return 'no "Human:" or "Assistant:" turns found';
  if (text.slice(0, first.index).trim() !== "" || first[1] !== "Human")
    return 'the transcript must start with a "Human:" turn';
  return markers.map((marker, index) => {
    const start = marker.index + marker[0].length;
    const end = markers[index + 1]?.index ?? text.length;
    return { role: marker[1] === "Human" ? "user" : "assistant", content: text.slice(start, end).trim() };
  });
}

/** The prompt of one transcript under the `turns` option. */
function promptOfTurns(turns: ChatMessage[], mode: HhRlhfTurns): string | ChatMessage[] {
  if (mode === "first") return turns[0]?.content ?? "";
  const context = [...turns];
  while (context.length > 0 && context.at(-1)?.role === "assistant") context.pop();
  return context;
}

/**
 * Reads an hh-rlhf file (`.jsonl` or `.jsonl.gz`) into prompt records, one per distinct prompt, with ids
 * `<file stem>-<line>`. A line without a `chosen` transcript throws an InputFileError naming it.
 */
export async function importHhRlhf(file: string, options: HhRlhfImportOptions): Promise<PromptImportResult> {
  const mode = options.turns ?? "first";
  const prompts: ImportedPrompt[] = [];
  for (const { line, value } of await readJsonLines(file)) {
    const chosen =
      typeof value === "object" && value !== null ? (value as { chosen?: unknown }).chosen : undefined;
    if (typeof chosen !== "string") {
      const problem =
        chosen === undefined
          ? "required field is missing: each line needs a chosen transcript"
          : `expected a string, got ${describeValue(chosen)}`;
      throw new InputFileError(file, problem, { line, field: "chosen" });
    }
    const turns = parseHhTranscript(chosen);
    if (typeof turns === "string") throw new InputFileError(file, turns, { line, field: "chosen" });
    prompts.push({ line, prompt: promptOfTurns(turns, mode) });
  }
  return finishImport(file, prompts, options, { prompt: "chosen" });
}
