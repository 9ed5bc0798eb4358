// The evaluation tournament: contestants' responses to held-out prompts are judged pairwise — helpfulness
// on helpful prompts, harmlessness on red-team prompts, each with its own rubric, every pair in both
// orders — and each response is classified for the absolute rates (over-refusal on helpful prompts,
// harmful compliance on red-team ones); a pair of texts, or a text, met again on the same prompt is not asked
// again. Judgments are stored per prompt in a run directory, so the
// tournament resumes like every other stage; the ratings are computed from whatever is stored.
import type { TurnRenderers } from "../constitution/templates.js";
import type { ChatMessage, LanguageModel } from "../models/model.js";
import type { ProgressReporter } from "../runs/progress.js";
import { type RunLoopOutcome, runRecords } from "../runs/run-loop.js";
import { type RunCounts, RunStore } from "../runs/run-store.js";
import { judgePair, type PairwiseJudgment } from "../stages/label/pairwise-judgment.js";
import { bootstrapRatings, type RatedModels } from "./bradley-terry.js";
import { comparisonsOf, type OutcomeRule, positionConsistency } from "./comparisons.js";
import { classifyResponse, type Rate, rateOf } from "./rates.js";
import {
  type EvalAxis,
  type EvalRubrics,
  harmfulComplianceRubric,
  refusalRubric,
  resolveRubrics,
} from "./rubrics.js";

/** One held-out prompt with every contestant's response (in contestant order). */
export interface EvalPrompt {
  readonly id: string;
  /** `helpful` prompts are judged for helpfulness and over-refusal; `red-team` ones for harmlessness and harmful compliance. */
  readonly kind: "helpful" | "red-team";
  readonly prompt: readonly ChatMessage[];
  readonly responses: readonly string[];
}

/** The settings that define a tournament; a rerun must match them to resume. */
export interface EvalRunConfig {
  /** The contestants' names (spec strings as given), in order. */
  readonly contestants: readonly string[];
  readonly judge: string;
  /** How the judge answers the pairwise questions: log-probs (default) or chain of thought (clamped). */
  readonly mode?: "logprobs" | "cot";
  /** The questions' own wording (default: the built-in rubrics). */
  readonly rubrics?: EvalRubrics;
}

/** Options of {@link runEval}. */
export interface RunEvalOptions {
  readonly runDir: string;
  readonly prompts: readonly EvalPrompt[];
  readonly judge: LanguageModel;
  readonly renderers: TurnRenderers;
  readonly config: EvalRunConfig;
  readonly concurrency: number;
  readonly restart?: boolean;
  readonly stop?: AbortSignal;
  readonly progress?: ProgressReporter;
}

/** What the tournament stores per prompt. */
export interface EvalPromptResult {
  readonly axis: EvalAxis;
  /** One judgment per pair of contestants (first < second). */
  readonly judgments: ReadonlyArray<{
    readonly first: number;
    readonly second: number;
    readonly judgment: PairwiseJudgment;
  }>;
  /** Per contestant, P(yes) of the prompt kind's rubric (refusal, or harmful compliance). */
  readonly rubric: string;
  readonly classifications: readonly number[];
}

/** Judges every prompt not yet done. */
export async function runEval(
  options: RunEvalOptions,
): Promise<RunLoopOutcome & { counts: RunCounts; failures: Array<{ error: string; count: number }> }> {
  const count = options.config.contestants.length;
  if (count < 2) throw new RangeError("a tournament needs at least two contestants");
  for (const prompt of options.prompts)
    if (prompt.responses.length !== count)
      throw new RangeError(
        `prompt ${prompt.id} has ${prompt.responses.length} responses for ${count} contestants`,
      );
  const store = RunStore.open(
    options.runDir,
    { stage: "eval", config: options.config, constitutionHash: "" },
    { restart: options.restart ?? false },
  );
  const rubrics = resolveRubrics(options.config.rubrics);
  try {
    store.addRecords(options.prompts.map((p) => ({ id: p.id, input: p })));
    const outcome = await runRecords<EvalPrompt, EvalPromptResult>({
      store,
      concurrency: options.concurrency,
      ...(options.stop ? { stop: options.stop } : {}),
      ...(options.progress ? { progress: options.progress } : {}),
      work: async ({ input }) => {
        const axis: EvalAxis = input.kind === "helpful" ? "helpfulness" : "harmlessness";
        const judgments: Array<{ first: number; second: number; judgment: PairwiseJudgment }> = [];
        // Contestants often give the same answer (checkpoints of one run, greedy templates): a pair of
        // texts already judged for this prompt, and a text already classified, are asked once.
        const judged = new Map<string, PairwiseJudgment>();
        for (let first = 0; first < count; first += 1)
          for (let second = first + 1; second < count; second += 1) {
            const texts = [input.responses[first] as string, input.responses[second] as string] as const;
            const key = JSON.stringify(texts);
            let judgment = judged.get(key);
            if (!judgment) {
              judgment = await judgePair(
                { conversation: input.prompt, first: texts[0], second: texts[1] },
                {
                  judge: options.judge,
                  renderers: options.renderers,
                  principle: rubrics[axis],
                  mode: options.config.mode ?? "logprobs",
                },
              );
              judged.set(key, judgment);
            }
            judgments.push({ first, second, judgment });
          }
        const rubric = input.kind === "helpful" ? rubrics.refusal : rubrics.harmfulCompliance;
        const classified = new Map<string, number>();
        const classifications: number[] = [];
        for (const response of input.responses) {
          let p = classified.get(response);
          if (p === undefined) {
            p = await classifyResponse(
              options.judge,
              rubric,
              input.prompt,
              response,
              undefined,
              rubrics.classificationTemplate,
            );
            classified.set(response, p);
          }
          classifications.push(p);
        }
        return { axis, judgments, rubric: rubric.id, classifications };
      },
    });
    return { ...outcome, counts: store.counts(), failures: store.failureSummary() };
  } finally {
    store.close();
  }
}

/** Options of {@link tournamentResults}. */
export interface ResultsOptions {
  /** The contestant whose ratings are fixed at `base` (default 0, the first). */
  readonly anchor?: number;
  readonly base?: number;
  readonly rule?: OutcomeRule;
  readonly bootstrapRounds?: number;
  readonly seed?: number;
}

/** The tournament's outcome: per axis ratings with intervals, the rates, position consistency. */
export interface TournamentResults {
  readonly contestants: readonly string[];
  readonly ratings: Readonly<Record<EvalAxis, RatedModels & { readonly comparisons: number }>>;
  /** Per contestant: over-refusal on helpful prompts and harmful compliance on red-team prompts. */
  readonly rates: ReadonlyArray<{ readonly overRefusal: Rate; readonly harmfulCompliance: Rate }>;
  /** Per axis, the share of judgments whose two orders agree. */
  readonly positionConsistency: Readonly<Record<EvalAxis, number>>;
}

/** A tournament run as stored: its config and every judged prompt with its result. */
export interface StoredTournament {
  readonly config: EvalRunConfig;
  readonly records: ReadonlyArray<{ readonly input: EvalPrompt; readonly result: EvalPromptResult }>;
}

/** Reads the tournament stored in `runDir` (read-only). */
export function readTournament(runDir: string): StoredTournament {
  const store = RunStore.openForReading(runDir, "eval");
  try {
    return {
      config: store.config<EvalRunConfig>(),
      records: store
        .records<EvalPrompt, EvalPromptResult>("done")
        .filter((r): r is typeof r & { result: EvalPromptResult } => r.result !== undefined)
        .map((r) => ({ input: r.input, result: r.result })),
    };
  } finally {
    store.close();
  }
}

/** Ratings, intervals, rates and consistency from the stored judgments of a tournament run. */
export function tournamentResults(
  tournament: string | StoredTournament,
  options: ResultsOptions = {},
): TournamentResults {
  const { config, records } = typeof tournament === "string" ? readTournament(tournament) : tournament;
  const results = records.map((r) => r.result);
  const count = config.contestants.length;
  const axes: EvalAxis[] = ["helpfulness", "harmlessness"];
  const byAxis = (axis: EvalAxis) => results.filter((r) => r.axis === axis).flatMap((r) => r.judgments);
  const rated = (axis: EvalAxis) => {
    const comparisons = comparisonsOf(byAxis(axis), options.rule ?? "hard");
    if (comparisons.length === 0)
      return {
        ratings: new Array<number>(count).fill(Number.NaN),
        intervals: Array.from({ length: count }, (): [number, number] => [Number.NaN, Number.NaN]),
        comparisons: 0,
      };
    return {
      ...bootstrapRatings(count, comparisons, {
        anchor: options.anchor ?? 0,
        base: options.base ?? 1000,
        rounds: options.bootstrapRounds ?? 1000,
        seed: options.seed ?? 0,
      }),
      comparisons: comparisons.length,
    };
  };
  const rates = Array.from({ length: count }, (_, i) => ({
    overRefusal: rateOf(
      results.filter((r) => r.rubric === refusalRubric.id).map((r) => r.classifications[i] ?? Number.NaN),
    ),
    harmfulCompliance: rateOf(
      results
        .filter((r) => r.rubric === harmfulComplianceRubric.id)
        .map((r) => r.classifications[i] ?? Number.NaN),
    ),
  }));
  return {
    contestants: config.contestants,
    ratings: { helpfulness: rated("helpfulness"), harmlessness: rated("harmlessness") },
    rates,
    positionConsistency: Object.fromEntries(
      axes.map((axis) => [axis, positionConsistency(byAxis(axis))]),
    ) as Record<EvalAxis, number>,
  };
}
