// Training curves — a run's numbers per step (loss; for RL also the reward, the KL and the held-out reward)
// as one small chart per quantity, stacked, each with its own y scale. Declared in vega-lite and rendered to
// SVG in Node, as the frontier chart is; `cai train` writes it beside the run's checkpoints.
import type { TopLevelSpec } from "vega-lite";
import type { TrainStepRecord } from "../../train/loop/checkpoint.js";
import { vegaLiteSvg } from "./vega-svg.js";

/** Which of a step record's numbers to draw, and under which title, in order. */
export interface CurveSeries {
  /** `loss`, `evalLoss`, or the name of one of the record's `metrics`. */
  readonly key: string;
  readonly title: string;
}

/** The series `cai train rl` draws. */
export const rlCurveSeries: readonly CurveSeries[] = [
  { key: "score", title: "reward (score)" },
  { key: "kl", title: "KL to the start model (nats per answer)" },
  { key: "heldReward", title: "held-out reward" },
  { key: "entropy", title: "entropy (nats per token)" },
  { key: "clipFraction", title: "clip fraction" },
];

/** The series `cai train sft`, `dpo` and `rm` draw. */
export const lossCurveSeries: readonly CurveSeries[] = [
  { key: "loss", title: "training loss" },
  { key: "evalLoss", title: "held-out loss" },
];

/** The value of `key` in a record, if it has one. */
function seriesValue(record: TrainStepRecord, key: string): number | undefined {
  if (key === "loss") return record.loss;
  if (key === "evalLoss") return record.evalLoss;
  return record.metrics?.[key];
}

/** The chart's data rows: one per step and series with a finite value. */
export function curveRows(
  history: readonly TrainStepRecord[],
  series: readonly CurveSeries[],
): Array<{ step: number; series: string; value: number }> {
  return series.flatMap((s) =>
    history.flatMap((record) => {
      const value = seriesValue(record, s.key);
      return value !== undefined && Number.isFinite(value)
        ? [{ step: record.step, series: s.title, value }]
        : [];
    }),
  );
}

/** The vega-lite spec: a line (with points) per series against the step, one row each, y scales independent. */
export function trainingCurvesSpec(
  history: readonly TrainStepRecord[],
  series: readonly CurveSeries[],
  title: string,
): TopLevelSpec {
  const rows = curveRows(history, series);
  const present = series.map((s) => s.title).filter((t) => rows.some((r) => r.series === t));
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title,
    background: "white",
    data: { values: rows },
    facet: { row: { field: "series", type: "nominal", sort: present, title: null } },
    spec: {
      width: 520,
      height: 120,
      mark: { type: "line", point: { size: 20 }, color: "#4e79a7" },
      encoding: {
        x: { field: "step", type: "quantitative", title: "step", axis: { tickMinStep: 1 } },
        y: { field: "value", type: "quantitative", title: null, scale: { zero: false } },
      },
    },
    resolve: { scale: { y: "independent" } },
    config: { font: "sans-serif", view: { stroke: "#ddd" } },
  };
}

/** {@link trainingCurvesSpec} rendered to a standalone SVG document. */
export async function trainingCurvesSvg(
  history: readonly TrainStepRecord[],
  series: readonly CurveSeries[],
  title: string,
): Promise<string> {
  return vegaLiteSvg(trainingCurvesSpec(history, series, title));
}
