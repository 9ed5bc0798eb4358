// From debiased pairwise judgments to Bradley–Terry comparisons, and the judge's position consistency.
// MT-Bench's rule: a pair judged in both orders is a win when both orders pick the same response and a tie
// when they disagree (the judge was swayed by position); the soft rule uses the debiased probability.

import type { PairwiseJudgment } from "../stages/label/pairwise-judgment.js";
import type { Comparison } from "./bradley-terry.js";

/** A judgment of two contestants (model indices) on one prompt. */
export interface ContestJudgment {
  readonly first: number;
  readonly second: number;
  readonly judgment: PairwiseJudgment;
}

/** How a judgment becomes a comparison outcome. */
export type OutcomeRule = "hard" | "soft";

/** Which response each order prefers: +1 first, −1 second, 0 undecided (exactly even). */
function orderVotes(judgment: PairwiseJudgment): [number, number] {
  const [forward, backward] = judgment.orders;
  // Forward shows the first response as (A); backward shows it as (B).
  return [Math.sign(forward.pA - forward.pB), Math.sign(backward.pB - backward.pA)];
}

/**
 * The comparisons for a Bradley–Terry fit: `hard` (default) — 1 or 0 when both orders agree on the
 * winner, 0.5 (a tie) when they disagree or are even; `soft` — the debiased P(first better).
 */
export function comparisonsOf(
  judgments: readonly ContestJudgment[],
  rule: OutcomeRule = "hard",
): Comparison[] {
  return judgments.map(({ first, second, judgment }) => {
    if (rule === "soft") return { a: first, b: second, outcome: judgment.pFirst };
    const [forward, backward] = orderVotes(judgment);
    const outcome = forward === backward && forward !== 0 ? (forward > 0 ? 1 : 0) : 0.5;
    return { a: first, b: second, outcome };
  });
}

/** The share of judgments whose two orders prefer the same response (NaN when there are none). */
export function positionConsistency(judgments: readonly ContestJudgment[]): number {
  if (judgments.length === 0) return Number.NaN;
  const consistent = judgments.filter(({ judgment }) => {
    const [forward, backward] = orderVotes(judgment);
    return forward === backward && forward !== 0;
  }).length;
  return consistent / judgments.length;
}
