// Judgments to comparisons: agreement of both orders is a win, disagreement a tie; the soft rule keeps the
// debiased probability; position consistency counts agreeing pairs.
import { describe, expect, it } from "vitest";
import type { PairwiseJudgment } from "../stages/label/pairwise-judgment.js";
import { comparisonsOf, positionConsistency } from "./comparisons.js";

/** A judgment whose forward order gives first-as-A `forwardA` and whose backward order gives first-as-B `backwardB`. */
function judgment(forwardA: number, backwardB: number): PairwiseJudgment {
  return {
    pFirst: (forwardA + backwardB) / 2,
    principle: "p",
    orders: [
      { shownFirst: "first", pA: forwardA, pB: 1 - forwardA },
      { shownFirst: "second", pA: 1 - backwardB, pB: backwardB },
    ],
    method: "exact",
    mode: "logprobs",
  };
}

describe("comparisonsOf", () => {
  const judged = [
    { first: 0, second: 1, judgment: judgment(0.9, 0.8) }, // both orders: first
    { first: 0, second: 1, judgment: judgment(0.2, 0.3) }, // both orders: second
    { first: 1, second: 2, judgment: judgment(0.9, 0.3) }, // position-swayed: tie
  ];

  it("gives wins where both orders agree and ties where they disagree", () => {
    expect(comparisonsOf(judged).map((c) => c.outcome)).toEqual([1, 0, 0.5]);
    expect(comparisonsOf(judged)[2]).toEqual({ a: 1, b: 2, outcome: 0.5 });
  });

  it("keeps the debiased probability with the soft rule", () => {
    const outcomes = comparisonsOf(judged, "soft").map((c) => c.outcome);
    for (const [i, expected] of [0.85, 0.25, 0.6].entries()) expect(outcomes[i]).toBeCloseTo(expected, 12);
  });

  it("measures position consistency", () => {
    expect(positionConsistency(judged)).toBeCloseTo(2 / 3, 12);
    expect(positionConsistency([])).toBeNaN();
  });
});
