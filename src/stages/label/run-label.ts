// RLAIF labels over a run directory: every response pair is judged under principles drawn per pair
// (seeded by the run seed and the pair id, so labels do not depend on order, concurrency or resumes),
// in both orders, and the debiased soft label is stored; resumable like `cai revise` (each pair is
// committed as it lands). The preference rows it yields are what `cai train dpo|rm` read.
import type { Constitution } from "../../constitution/constitution-schema.js";
import type { TurnRenderers } from "../../constitution/templates.js";
import type { ChatMessage, LanguageModel } from "../../models/model.js";
import { SeededRandom } from "../../random/seeded-random.js";
import type { ProgressReporter } from "../../runs/progress.js";
import { recordSeed } from "../../runs/record-seed.js";
import { runRecords, type StageRunResult } from "../../runs/run-loop.js";
import { RunStore } from "../../runs/run-store.js";
import type { ResponsesRow } from "../respond/responses-file.js";
import { type EnsembleLabel, ensembleJudgment } from "./ensemble-judgment.js";
import type { JudgmentMode } from "./pairwise-judgment.js";

/** One pair of responses to label. */
export interface LabelPair {
  /** Unique in the run, e.g. `<prompt id>:<i>-<j>`. */
  readonly id: string;
  readonly prompt: readonly ChatMessage[];
  readonly first: { readonly model: string; readonly text: string };
  readonly second: { readonly model: string; readonly text: string };
}

/** Every pair of responses to each prompt (each unordered pair once, in file order). */
export function responsePairs(rows: readonly ResponsesRow[]): LabelPair[] {
  return rows.flatMap((row) =>
    row.responses.flatMap((a, i) =>
      row.responses.slice(i + 1).map((b, k) => ({
        id: `${row.id}:${i}-${i + 1 + k}`,
        prompt: row.prompt,
        first: { model: a.model, text: a.text },
        second: { model: b.model, text: b.text },
      })),
    ),
  );
}

/** The settings that define a label run; a rerun must match them to resume. */
export interface LabelRunConfig {
  /** The judge's spec string, as given. */
  readonly judge: string;
  /** `auto` resolves to logprobs when the judge can score, else verdict. */
  readonly mode: JudgmentMode | "auto";
  /** Principles drawn per pair. */
  readonly principles: number;
  /** Few-shot comparison examples placed before the question. */
  readonly fewShot: number;
  readonly seed: number;
  /** Chain of thought: the band P(A) is clamped to. */
  readonly clamp: readonly [number, number];
  /** `votes` mode: samples per order. */
  readonly votes: number;
}

/** Options of {@link runLabel}. */
export interface RunLabelOptions {
  readonly runDir: string;
  readonly pairs: readonly LabelPair[];
  readonly judge: LanguageModel;
  readonly constitution: Constitution;
  readonly renderers: TurnRenderers;
  readonly constitutionHash: string;
  readonly config: LabelRunConfig;
  readonly concurrency: number;
  readonly maxAttempts?: number;
  readonly restart?: boolean;
  readonly stop?: AbortSignal;
  readonly progress?: ProgressReporter;
}

/** The stored label of one pair. */
export type LabelResult = EnsembleLabel;

/** Labels every pair not yet done in the run. */
export async function runLabel(options: RunLabelOptions): Promise<StageRunResult> {
  const { config, constitution } = options;
  if (constitution.comparisons.length === 0)
    throw new RangeError("the constitution has no comparison principles to label with");
  const store = RunStore.open(
    options.runDir,
    { stage: "label", config, constitutionHash: options.constitutionHash },
    { restart: options.restart ?? false },
  );
  try {
    store.addRecords(options.pairs.map((pair) => ({ id: pair.id, input: pair })));
    const examples = constitution.examples.comparison.slice(0, config.fewShot);
    const outcome = await runRecords<LabelPair, LabelResult>({
      store,
      concurrency: options.concurrency,
      ...(options.maxAttempts !== undefined ? { maxAttempts: options.maxAttempts } : {}),
      ...(options.stop ? { stop: options.stop } : {}),
      ...(options.progress ? { progress: options.progress } : {}),
      work: (record) => {
        const pair = record.input;
        const random = new SeededRandom(recordSeed(config.seed, pair.id));
        return ensembleJudgment(
          { conversation: pair.prompt, first: pair.first.text, second: pair.second.text },
          {
            judge: options.judge,
            renderers: options.renderers,
            examples,
            clamp: config.clamp,
            votes: config.votes,
            seed: random.int(2 ** 31),
            ...(config.mode === "auto" ? {} : { mode: config.mode }),
          },
          { principles: constitution.comparisons, count: config.principles, random },
        );
      },
    });
    return { ...outcome, counts: store.counts(), failures: store.failureSummary() };
  } finally {
    store.close();
  }
}

/** One row of the preference JSONL `cai label` writes (TRL's explicit-prompt layout plus the label's details). */
export interface LabelledPreferenceRow {
  readonly id: string;
  readonly prompt: readonly ChatMessage[];
  readonly chosen: readonly ChatMessage[];
  readonly rejected: readonly ChatMessage[];
  /** The judge's probability that `chosen` is better (≥ 0.5). */
  readonly p_chosen: number;
  readonly chosen_model: string;
  readonly rejected_model: string;
  /** The principles drawn for the pair. */
  readonly principles: readonly string[];
  readonly judge: string;
  readonly mode: string;
  /** How the probabilities were read: exact / top-logprobs log-probs, or verdict / votes (hard labels). */
  readonly method: string;
  /** Per principle, both orders' raw P(A) (first shown as A, then second shown as A). */
  readonly orders: ReadonlyArray<{ readonly principle: string; readonly pA: readonly [number, number] }>;
  readonly source: "ai";
}

/** The preference row of a labelled pair: the side the judge prefers is `chosen`. */
export function labelledRowOf(pair: LabelPair, label: LabelResult, judge: string): LabelledPreferenceRow {
  const firstWins = label.pFirst >= 0.5;
  const [chosen, rejected] = firstWins ? [pair.first, pair.second] : [pair.second, pair.first];
  return {
    id: pair.id,
    prompt: pair.prompt,
    chosen: [{ role: "assistant", content: chosen.text }],
    rejected: [{ role: "assistant", content: rejected.text }],
    p_chosen: firstWins ? label.pFirst : 1 - label.pFirst,
    chosen_model: chosen.model,
    rejected_model: rejected.model,
    principles: label.principles,
    judge,
    mode: label.mode,
    method: label.method,
    orders: label.judgments.map((j) => ({
      principle: j.principle,
      pA: [j.orders[0].pA, j.orders[1].pA] as const,
    })),
    source: "ai",
  };
}

/** The preference rows of every labelled pair in a run directory, sorted by id. */
export function labelledRows(runDir: string): LabelledPreferenceRow[] {
  const store = RunStore.openForReading(runDir, "label");
  try {
    const config = store.config<LabelRunConfig>();
    return store
      .records<LabelPair, LabelResult>("done")
      .filter((r): r is typeof r & { result: LabelResult } => r.result !== undefined)
      .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
      .map((r) => labelledRowOf(r.input, r.result, config.judge));
  } finally {
    store.close();
  }
}
