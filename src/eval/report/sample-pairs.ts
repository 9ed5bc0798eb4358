// Which judged pairs the report shows as samples: the first few of each axis whose two answers differ. A
// pair of identical answers (two models that learned the same reply) shows nothing about the judge or the
// models, and its verdict can only be a coin toss, so it is never a sample.
import type { EvalAxis } from "../rubrics.js";
import { reportAxes, type SamplePair } from "./report-data.js";

/** Whether the two responses of `pair` are the same answer (ignoring surrounding whitespace). */
export function identicalAnswers(pair: Pick<SamplePair, "first" | "second">): boolean {
  return pair.first.response.trim() === pair.second.response.trim();
}

/**
 * Up to `perAxis` pairs of each axis, in the order given, leaving out pairs of identical answers; the
 * axes in the report's order ({@link reportAxes}).
 */
export function samplePairs(candidates: Iterable<SamplePair>, perAxis: number): SamplePair[] {
  const chosen = new Map<EvalAxis, SamplePair[]>(reportAxes.map((axis) => [axis, []]));
  for (const pair of candidates) {
    const list = chosen.get(pair.axis);
    if (list && list.length < perAxis && !identicalAnswers(pair)) list.push(pair);
  }
  return reportAxes.flatMap((axis) => chosen.get(axis) ?? []);
}
