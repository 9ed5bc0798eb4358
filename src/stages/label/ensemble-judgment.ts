// Principle ensembling, as the paper does for its preference labels: a pair is judged under several
// comparison principles drawn at random (weighted, with replacement, seeded) and the soft labels averaged.
import type { ComparisonPrinciple } from "../../constitution/constitution-schema.js";
import { samplePrinciple } from "../../constitution/sampling.js";
import type { SeededRandom } from "../../random/seeded-random.js";
import {
  type JudgmentContext,
  type JudgmentMethod,
  type JudgmentMode,
  judgePair,
  type PairwiseJudgment,
  type ResponsePair,
} from "./pairwise-judgment.js";

/** Options of {@link ensembleJudgment}. */
export interface EnsembleOptions {
  /** The comparison principles to draw from (the constitution's). */
  readonly principles: readonly ComparisonPrinciple[];
  /** How many principles to draw for the pair. Default 1. */
  readonly count?: number;
  /** The draws' randomness: seed it per pair, so a rerun draws the same principles. */
  readonly random: SeededRandom;
}

/** A pair's soft label from an ensemble of principles. */
export interface EnsembleLabel {
  /** P(first is better): the mean of the judgments' debiased labels. */
  readonly pFirst: number;
  /** The principles drawn, in order (repeats possible). */
  readonly principles: readonly string[];
  /** One judgment per drawn principle, with both orders' raw numbers. */
  readonly judgments: readonly PairwiseJudgment[];
  readonly method: JudgmentMethod;
  readonly mode: JudgmentMode;
}

/** Judges `pair` under `count` principles drawn from `principles` and averages the labels. */
export async function ensembleJudgment(
  pair: ResponsePair,
  context: Omit<JudgmentContext, "principle">,
  options: EnsembleOptions,
): Promise<EnsembleLabel> {
  const count = options.count ?? 1;
  if (!(Number.isInteger(count) && count >= 1))
    throw new RangeError(`the number of principles must be a positive integer, not ${count}`);
  const drawn = Array.from({ length: count }, () => samplePrinciple(options.principles, options.random));
  const judgments: PairwiseJudgment[] = [];
  for (const principle of drawn)
    judgments.push(await judgePair(pair, { ...context, principles: options.principles, principle }));
  const [first] = judgments;
  if (first === undefined) throw new RangeError("no principle was drawn");
  return {
    pFirst: judgments.reduce((sum, j) => sum + j.pFirst, 0) / judgments.length,
    principles: drawn.map((p) => p.id),
    judgments,
    method: first.method,
    mode: first.mode,
  };
}
