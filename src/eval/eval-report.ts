// From a tournament run to the report's data: ratings anchored to the baseline with their intervals and
// comparison counts, rates, position consistency, and a few judged pairs as samples.
import { renderConversation } from "../constitution/templates.js";
import { comparisonsOf } from "./comparisons.js";
import type { EvalReportData, SamplePair } from "./report/report-data.js";
import { samplePairs } from "./report/sample-pairs.js";
import type { EvalAxis } from "./rubrics.js";
import { readTournament, tournamentResults } from "./run-eval.js";

/** Options of {@link evalReportData}. */
export interface EvalReportOptions {
  /** Short names of the contestants (chart labels), in contestant order. Default: the spec strings. */
  readonly names?: readonly string[];
  /** Index of the baseline contestant the ratings are anchored to. Default 0. */
  readonly baseline?: number;
  readonly baseRating?: number;
  readonly bootstrapRounds?: number;
  readonly seed?: number;
  /** How many judged pairs to show per axis (pairs of identical answers are never shown). Default 3. */
  readonly samplesPerAxis?: number;
  /** The date written into the report. Default: now. */
  readonly date?: Date;
}

/** The report data of the tournament stored in `runDir`. */
export function evalReportData(runDir: string, options: EvalReportOptions = {}): EvalReportData {
  const baseline = options.baseline ?? 0;
  const baseRating = options.baseRating ?? 1000;
  const bootstrapRounds = options.bootstrapRounds ?? 1000;
  const seed = options.seed ?? 0;
  const tournament = readTournament(runDir);
  const { config, records } = tournament;
  const results = tournamentResults(tournament, {
    anchor: baseline,
    base: baseRating,
    bootstrapRounds,
    seed,
  });
  const names = options.names ?? config.contestants;
  const axisReport = (axis: EvalAxis) => {
    const judged = records.filter((r) => r.result.axis === axis).flatMap((r) => r.result.judgments);
    const { ratings, intervals, comparisons } = results.ratings[axis];
    return {
      ratings: names.map((model, i) => ({
        model,
        elo: ratings[i] ?? Number.NaN,
        interval: (intervals[i] ?? [Number.NaN, Number.NaN]) as readonly [number, number],
        comparisons: judged.filter((j) => j.first === i || j.second === i).length,
      })),
      comparisons,
      positionConsistency: results.positionConsistency[axis],
    };
  };
  const candidates = records.flatMap(({ input, result }) =>
    result.judgments.map((j): SamplePair => {
      const [outcome] = comparisonsOf([j]);
      const verdict: SamplePair["verdict"] =
        outcome?.outcome === 1 ? "first" : outcome?.outcome === 0 ? "second" : "tie";
      const reasoning = j.judgment.orders.map((o) => o.reasoning).find((r) => r !== undefined);
      return {
        axis: result.axis,
        prompt: renderConversation(input.prompt),
        first: { model: names[j.first] ?? "", response: input.responses[j.first] ?? "" },
        second: { model: names[j.second] ?? "", response: input.responses[j.second] ?? "" },
        pFirst: j.judgment.pFirst,
        verdict,
        consistent: verdict !== "tie",
        ...(reasoning === undefined ? {} : { reasoning }),
      };
    }),
  );
  const samples = samplePairs(candidates, options.samplesPerAxis ?? 3);
  return {
    version: 1,
    run: {
      judge: config.judge,
      seed,
      date: (options.date ?? new Date()).toISOString(),
      prompts: {
        helpful: records.filter((r) => r.input.kind === "helpful").length,
        redTeam: records.filter((r) => r.input.kind === "red-team").length,
      },
      bootstrapRounds,
      confidence: 0.95,
      baseRating,
    },
    models: names.map((name, i) => ({ name, spec: config.contestants[i] ?? name, baseline: i === baseline })),
    axes: { helpfulness: axisReport("helpfulness"), harmlessness: axisReport("harmlessness") },
    rates: names.map((model, i) => ({
      model,
      overRefusal: results.rates[i]?.overRefusal ?? { rate: Number.NaN, meanProbability: Number.NaN, n: 0 },
      harmfulCompliance: results.rates[i]?.harmfulCompliance ?? {
        rate: Number.NaN,
        meanProbability: Number.NaN,
        n: 0,
      },
    })),
    samples,
  };
}
