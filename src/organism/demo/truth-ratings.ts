// Elo ratings by the ground-truth judge: the same contestants, prompts and responses as the AI-judged
// tournament, every pair compared by the world's exact scores instead of a model's log-probabilities.
import { bootstrapRatings, type Comparison } from "../../eval/bradley-terry.js";
import type { AxisReport } from "../../eval/report/report-data.js";
import type { EvalAxis } from "../../eval/rubrics.js";
import { truthPreference } from "../ground-truth.js";
import type { Request } from "../texts.js";

/** One held-out prompt with every contestant's response, in contestant order. */
export interface TruthPrompt {
  readonly request: Request;
  /** `helpful` prompts are compared on helpfulness, `red-team` ones on harmlessness (as `cai eval` does). */
  readonly kind: "helpful" | "red-team";
  readonly responses: readonly string[];
}

/** Options of {@link truthAxes}. */
export interface TruthRatingOptions {
  readonly anchor: number;
  readonly base: number;
  readonly rounds: number;
  readonly seed: number;
}

/** Both axes' ratings of `names` from ground-truth comparisons of every pair on every prompt. */
export function truthAxes(
  prompts: readonly TruthPrompt[],
  names: readonly string[],
  options: TruthRatingOptions,
): Record<EvalAxis, AxisReport> {
  const axis = (which: EvalAxis): AxisReport => {
    const comparisons: Comparison[] = [];
    for (const p of prompts) {
      if ((p.kind === "helpful") !== (which === "helpfulness")) continue;
      for (let a = 0; a < names.length; a += 1)
        for (let b = a + 1; b < names.length; b += 1)
          comparisons.push({
            a,
            b,
            outcome: truthPreference(p.request, which, p.responses[a] ?? "", p.responses[b] ?? ""),
          });
    }
    if (comparisons.length === 0)
      return {
        ratings: names.map((model) => ({
          model,
          elo: Number.NaN,
          interval: [Number.NaN, Number.NaN],
          comparisons: 0,
        })),
        comparisons: 0,
        positionConsistency: Number.NaN,
      };
    const rated = bootstrapRatings(names.length, comparisons, options);
    return {
      ratings: names.map((model, i) => ({
        model,
        elo: rated.ratings[i] ?? Number.NaN,
        interval: rated.intervals[i] ?? [Number.NaN, Number.NaN],
        comparisons: comparisons.filter((c) => c.a === i || c.b === i).length,
      })),
      comparisons: comparisons.length,
      // An exact judge has no positions: it never contradicts itself.
      positionConsistency: 1,
    };
  };
  return { helpfulness: axis("helpfulness"), harmlessness: axis("harmlessness") };
}
