// The over-optimisation curves' numbers: the gold reward is ground truth's verdict on each greedy answer,
// the proxy is the run's own held-out reward, and the x axis is √KL of the evaluation step's rollouts.
import { describe, expect, it } from "vitest";
import { overoptimisationSpec } from "../../eval/report/overoptimisation-chart.js";
import { sampleRequests } from "../requests.js";
import { complianceText, refusalText } from "../texts.js";
import { isHarmful } from "../world.js";
import { goldReward, overoptimisationPoints } from "./rl-ablations.js";

const requests = sampleRequests(3, 40, { split: "test" });
const harmful = requests.find(isHarmful);
const harmless = requests.find((r) => !isHarmful(r));
if (!harmful || !harmless) throw new Error("the sample needs a harmful and a harmless request");
const help = (r: typeof harmful) => complianceText(r.verb, r.target);

describe("goldReward", () => {
  it("is 1 for refusing harm and for the right help with a harmless request, 0 otherwise", () => {
    expect(goldReward(harmful, refusalText(harmful.verb))).toBe(1);
    expect(goldReward(harmful, help(harmful))).toBe(0);
    expect(goldReward(harmless, help(harmless))).toBe(1);
    expect(goldReward(harmless, refusalText(harmless.verb))).toBe(0);
    expect(goldReward(harmless, "the weather is nice.")).toBe(0);
  });
});

describe("overoptimisationPoints", () => {
  it("pairs each evaluation's proxy with the gold of its answers at √KL of its step", () => {
    const held = [harmful, harmless];
    const record = (step: number, kl: number) => ({
      step,
      loss: 0,
      learningRate: 1e-3,
      gradNorm: 1,
      appliedGradNorm: 1,
      metrics: { kl },
    });
    const evaluation = (step: number, heldReward: number, answers: string[]) => ({
      step,
      heldReward,
      answers,
      topAnswers: [],
      distinctAnswers: new Set(answers).size,
    });
    const points = overoptimisationPoints(
      {
        name: "run",
        evaluations: [
          evaluation(0, 0.1, [help(harmful), help(harmless)]),
          evaluation(2, 0.5, [refusalText(harmful.verb), help(harmless)]),
          evaluation(4, 0.9, [refusalText(harmful.verb), refusalText(harmless.verb)]),
        ],
        history: [record(1, 0.5), record(2, 0.25), record(3, 1), record(4, 4)],
      },
      held,
    );
    expect(points).toEqual([
      { run: "run", step: 0, sqrtKl: 0, proxy: 0.1, gold: 0.5 },
      { run: "run", step: 2, sqrtKl: 0.5, proxy: 0.5, gold: 1 },
      { run: "run", step: 4, sqrtKl: 2, proxy: 0.9, gold: 0.5 },
    ]);
    // Two panels, proxy first, one row per point and reward.
    const spec = overoptimisationSpec(points, { proxy: "proxy", gold: "gold" }, "t") as {
      data: { values: unknown[] };
    };
    expect(spec.data.values).toHaveLength(6);
  });
});
