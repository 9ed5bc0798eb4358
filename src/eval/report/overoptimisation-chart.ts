// Reward over-optimisation, as reward-model studies plot it: along RL training, the reward the policy is
// optimised against (the proxy: a preference model's score) and a reward it is not shown (the gold: on the
// organism, ground truth) against √KL to the start model. Optimising a proxy too far raises it while the
// gold turns down; a KL penalty is what holds the policy near where the two still agree. One panel per
// reward, each with its own y scale (they are in different units), one line per run.
import type { TopLevelSpec } from "vega-lite";
import { vegaLiteSvg } from "./vega-svg.js";

/** One evaluation of one run. */
export interface OveroptimisationPoint {
  readonly run: string;
  readonly step: number;
  /** √KL of the policy to the start model (nats per answer) at the evaluation. */
  readonly sqrtKl: number;
  readonly proxy: number;
  readonly gold: number;
}

/** The panels' titles. */
export interface OveroptimisationTitles {
  readonly proxy: string;
  readonly gold: string;
}

/** The vega-lite spec: proxy and gold panels side by side, a line (with points) per run against √KL. */
export function overoptimisationSpec(
  points: readonly OveroptimisationPoint[],
  titles: OveroptimisationTitles,
  title: string,
): TopLevelSpec {
  const rows = points.flatMap((p) => [
    { run: p.run, step: p.step, sqrtKl: p.sqrtKl, reward: titles.proxy, value: p.proxy },
    { run: p.run, step: p.step, sqrtKl: p.sqrtKl, reward: titles.gold, value: p.gold },
  ]);
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title,
    background: "white",
    data: { values: rows.filter((r) => Number.isFinite(r.value) && Number.isFinite(r.sqrtKl)) },
    facet: { column: { field: "reward", type: "nominal", sort: [titles.proxy, titles.gold], title: null } },
    spec: {
      width: 300,
      height: 220,
      mark: { type: "line", point: { size: 30 } },
      encoding: {
        x: { field: "sqrtKl", type: "quantitative", title: "√KL to the start model" },
        y: { field: "value", type: "quantitative", title: null, scale: { zero: false } },
        color: { field: "run", type: "nominal", title: "run" },
        order: { field: "step", type: "quantitative" },
        tooltip: [
          { field: "run", type: "nominal" },
          { field: "step", type: "quantitative" },
          { field: "value", type: "quantitative", format: ".3f" },
        ],
      },
    },
    resolve: { scale: { y: "independent" } },
    config: { font: "sans-serif", view: { stroke: "#ddd" } },
  };
}

/** {@link overoptimisationSpec} rendered to a standalone SVG document. */
export function overoptimisationSvg(
  points: readonly OveroptimisationPoint[],
  titles: OveroptimisationTitles,
  title: string,
): Promise<string> {
  return vegaLiteSvg(overoptimisationSpec(points, titles, title));
}
