// Ratings from a person's answers to a queue, in the report's shape: the same Bradley–Terry fit and
// bootstrap as the AI judge's, on the answered comparisons (A: win, B: loss, tie: half; skips left out).
// A person gives no absolute rates, so those stay unmeasured.
import { renderConversation } from "../../constitution/templates.js";
import { bootstrapRatings } from "../bradley-terry.js";
import type { EvalReportData, SamplePair } from "../report/report-data.js";
import { samplePairs } from "../report/sample-pairs.js";
import type { EvalAxis } from "../rubrics.js";
import { type HumanAnswer, type HumanQueueItem, humanComparisons } from "./human-queue.js";

/** Options of {@link humanReportData}. */
export interface HumanReportOptions {
  /** The contestants' names and specs, in contestant order. */
  readonly names: readonly string[];
  readonly specs: readonly string[];
  readonly baseline?: number;
  readonly baseRating?: number;
  readonly bootstrapRounds?: number;
  readonly seed?: number;
  readonly samplesPerAxis?: number;
  readonly date?: Date;
}

const unmeasured = { rate: Number.NaN, meanProbability: Number.NaN, n: 0 };

/** The report data of the answered items of a human queue. */
export function humanReportData(
  items: readonly HumanQueueItem[],
  answers: ReadonlyMap<string, HumanAnswer>,
  options: HumanReportOptions,
): EvalReportData {
  const { names } = options;
  const baseline = options.baseline ?? 0;
  const base = options.baseRating ?? 1000;
  const rounds = options.bootstrapRounds ?? 1000;
  const seed = options.seed ?? 0;
  const axisReport = (axis: EvalAxis) => {
    const comparisons = humanComparisons(items, answers, axis);
    const fitted =
      comparisons.length === 0
        ? undefined
        : bootstrapRatings(names.length, comparisons, { anchor: baseline, base, rounds, seed });
    return {
      ratings: names.map((model, i) => ({
        model,
        elo: fitted?.ratings[i] ?? Number.NaN,
        interval: (fitted?.intervals[i] ?? [Number.NaN, Number.NaN]) as readonly [number, number],
        comparisons: comparisons.filter((c) => c.a === i || c.b === i).length,
      })),
      comparisons: comparisons.length,
      // One order per comparison: a person's position consistency is not measured.
      positionConsistency: Number.NaN,
    };
  };
  const answered = items.filter((item) => ["A", "B", "tie"].includes(answers.get(item.id)?.verdict ?? ""));
  const samples = samplePairs(
    answered.map((item): SamplePair => {
      const verdict = answers.get(item.id)?.verdict;
      return {
        axis: item.axis,
        prompt: renderConversation(item.prompt),
        first: { model: names[item.a.contestant] ?? "", response: item.a.text },
        second: { model: names[item.b.contestant] ?? "", response: item.b.text },
        pFirst: verdict === "A" ? 1 : verdict === "B" ? 0 : 0.5,
        verdict: verdict === "A" ? "first" : verdict === "B" ? "second" : "tie",
        consistent: true,
      };
    }),
    options.samplesPerAxis ?? 3,
  );
  return {
    version: 1,
    run: {
      judge: "human",
      seed,
      date: (options.date ?? new Date()).toISOString(),
      prompts: {
        helpful: new Set(items.filter((i) => i.axis === "helpfulness").map((i) => i.id.split(":")[0])).size,
        redTeam: new Set(items.filter((i) => i.axis === "harmlessness").map((i) => i.id.split(":")[0])).size,
      },
      bootstrapRounds: rounds,
      confidence: 0.95,
      baseRating: base,
    },
    models: names.map((name, i) => ({ name, spec: options.specs[i] ?? name, baseline: i === baseline })),
    axes: { helpfulness: axisReport("helpfulness"), harmlessness: axisReport("harmlessness") },
    rates: names.map((model) => ({ model, overRefusal: unmeasured, harmfulCompliance: unmeasured })),
    samples,
  };
}
