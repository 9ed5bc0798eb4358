// Training curves: one line per quantity the run logged, each in its own row, steps without a value (the
// held-out reward between evaluations) left out rather than drawn as zeros.
import { describe, expect, it } from "vitest";
import type { TrainStepRecord } from "../../train/loop/checkpoint.js";
import { curveRows, lossCurveSeries, rlCurveSeries, trainingCurvesSvg } from "./training-curves.js";

const history: TrainStepRecord[] = Array.from({ length: 6 }, (_, i) => ({
  step: i + 1,
  loss: 1 / (i + 1),
  learningRate: 1e-3,
  gradNorm: 1,
  appliedGradNorm: 1,
  metrics: {
    score: 0.1 * i,
    kl: 0.5 * i,
    entropy: 2 - 0.1 * i,
    clipFraction: 0.01,
    ...(i % 3 === 2 ? { heldReward: 0.2 * i } : {}),
  },
}));

describe("training curves", () => {
  it("keeps only the steps that have each value", () => {
    const rows = curveRows(history, rlCurveSeries);
    expect(rows.filter((r) => r.series === "held-out reward").map((r) => r.step)).toEqual([3, 6]);
    expect(rows.filter((r) => r.series.startsWith("KL")).map((r) => r.value)).toEqual([
      0, 0.5, 1, 1.5, 2, 2.5,
    ]);
    expect(curveRows(history, lossCurveSeries).filter((r) => r.series === "held-out loss")).toEqual([]);
  });

  it("draws one line per logged quantity, titled", async () => {
    const svg = await trainingCurvesSvg(history, rlCurveSeries, "cai train rl: run");
    const lines = svg.match(/aria-roledescription="line mark"/g) ?? [];
    expect(lines).toHaveLength(rlCurveSeries.length);
    for (const s of rlCurveSeries) expect(svg).toContain(s.title);
    expect(svg).toContain("cai train rl: run");
    const losses = await trainingCurvesSvg(history, lossCurveSeries, "cai train sft: run");
    expect(losses.match(/aria-roledescription="line mark"/g) ?? []).toHaveLength(1); // no held-out loss logged
  });
});
