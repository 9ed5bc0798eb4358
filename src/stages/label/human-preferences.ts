// Human preference labels to mix with AI ones, as the paper mixes human helpfulness comparisons with AI
// harmlessness labels: any preference file the trainer reads (Anthropic hh-rlhf's chosen/rejected
// transcripts, TRL, OpenAI) becomes rows in `cai label`'s output shape, marked `source: "human"`.
import type { ChatMessage } from "../../models/model.js";
import { readPreferenceRows } from "../../train/data/preference-data.js";

/** A human-labelled row in the shape of `cai label`'s output. */
export interface HumanPreferenceRow {
  readonly id: string;
  readonly prompt: readonly ChatMessage[];
  readonly chosen: readonly ChatMessage[];
  readonly rejected: readonly ChatMessage[];
  /** The label's probability (1 for a plain chosen/rejected pair). */
  readonly p_chosen: number;
  readonly source: "human";
  /** Where the row came from: `file:line`. */
  readonly origin: string;
}

/** The first `limit` (default all) pairs of a preference file as human-labelled rows. */
export async function humanPreferenceRows(file: string, limit?: number): Promise<HumanPreferenceRow[]> {
  const rows = await readPreferenceRows(file);
  return rows.slice(0, limit ?? rows.length).map((row) => ({
    id: `human:${row.line}`,
    prompt: row.prompt,
    chosen: [{ role: "assistant", content: row.chosen }],
    rejected: [{ role: "assistant", content: row.rejected }],
    p_chosen: row.target,
    source: "human",
    origin: `${file}:${row.line}`,
  }));
}
