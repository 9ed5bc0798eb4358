// The organism's stand-in for the paper's human feedback: a crowdworker who compares two answers as the
// world's exact judge would, but gets a share of the labels wrong (flipped) and labels only a budget of
// the pairs — the paper had far fewer human labels than AI ones. Deterministic: which pairs are labelled
// and which labels flip depend only on the seed and the pair ids.

import { SeededRandom } from "../../random/seeded-random.js";
import { recordSeed } from "../../runs/record-seed.js";
import type { LabelPair } from "../../stages/label/run-label.js";
import { type TruthAxis, truthPreference } from "../ground-truth.js";
import type { Request } from "../texts.js";
import { promptIdOf } from "./demo-labels.js";

/** Options of {@link crowdworkerLabels}. */
export interface CrowdworkerOptions {
  /** The share of labels the crowdworker gets wrong (flipped). Default 0.15. */
  readonly errorRate?: number;
  /** The most pairs labelled (a seeded choice among the decidable ones). Default: all. */
  readonly budget?: number;
  readonly seed: number;
}

/** A TRL preference row as a crowdworker labelled it. */
export interface CrowdworkerRow {
  readonly id: string;
  readonly prompt: unknown;
  readonly chosen: [{ role: "assistant"; content: string }];
  readonly rejected: [{ role: "assistant"; content: string }];
  readonly axis: TruthAxis;
  /** Whether the ground truth prefers the other answer (the label was flipped). */
  readonly wrong: boolean;
  readonly source: "crowdworker";
}

/** The default error rate: about the disagreement rate of crowdworkers with each other in RLHF data. */
export const defaultCrowdworkerErrorRate = 0.15;

/**
 * Labels of `pairs` on `axis` as a crowdworker gives them: pairs ground truth cannot tell apart (both
 * answers as good) are left out, as a labeller would skip them; of the rest at most `budget` are chosen
 * (in an order drawn from the seed), and each label is flipped with probability `errorRate`.
 */
export function crowdworkerLabels(
  pairs: readonly LabelPair[],
  requestOf: ReadonlyMap<string, Request>,
  axis: TruthAxis,
  options: CrowdworkerOptions,
): CrowdworkerRow[] {
  const errorRate = options.errorRate ?? defaultCrowdworkerErrorRate;
  if (!(errorRate >= 0 && errorRate < 0.5))
    throw new RangeError(`the crowdworker error rate must be in [0, 0.5), not ${errorRate}`);
  const decided = pairs.flatMap((pair) => {
    const request = requestOf.get(promptIdOf(pair.id));
    if (!request) return [];
    const truth = truthPreference(request, axis, pair.first.text, pair.second.text);
    return truth === 0.5 ? [] : [{ pair, firstBetter: truth === 1 }];
  });
  const order = decided
    .map((d) => ({ ...d, key: recordSeed(options.seed, `${axis}:order:${d.pair.id}`) }))
    .sort((a, b) => a.key - b.key || (a.pair.id < b.pair.id ? -1 : 1));
  const chosen = order.slice(0, options.budget ?? order.length);
  return chosen
    .map(({ pair, firstBetter }): CrowdworkerRow => {
      const wrong = new SeededRandom(recordSeed(options.seed, `${axis}:flip:${pair.id}`)).next() < errorRate;
      const firstChosen = firstBetter !== wrong;
      const [better, worse] = firstChosen ? [pair.first, pair.second] : [pair.second, pair.first];
      return {
        id: pair.id,
        prompt: pair.prompt,
        chosen: [{ role: "assistant", content: better.text }],
        rejected: [{ role: "assistant", content: worse.text }],
        axis,
        wrong,
        source: "crowdworker",
      };
    })
    .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}
