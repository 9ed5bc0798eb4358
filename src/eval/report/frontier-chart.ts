// The chart by which Constitutional AI was presented: harmlessness Elo against helpfulness Elo, one point
// per model with its 95% interval on both axes. Declared in vega-lite, compiled to vega and rendered to SVG
// in Node (no browser, no canvas), then rasterised to PNG with resvg.
import { Resvg } from "@resvg/resvg-js";
import { parse, View } from "vega";
import { compile, type TopLevelSpec } from "vega-lite";
import type { EvalAxis } from "../rubrics.js";
import { type AxisReport, baselineOf, type EvalReportData } from "./report-data.js";

/**
 * Colours of the models' markers and interval bars, in model order (Tableau 10); the tenth model onward
 * repeats them. Fixed so a model keeps its colour between reports, and so tests can find each marker.
 */
export const frontierPalette = [
  "#4e79a7",
  "#f28e2b",
  "#e15759",
  "#59a14f",
  "#b07aa1",
  "#76b7b2",
  "#edc948",
  "#ff9da7",
  "#9c755f",
] as const;

/** The colour of the model at `index` in the report's model list. */
export function modelColour(index: number): string {
  return frontierPalette[index % frontierPalette.length] as string;
}

/** Width of frontier.png in pixels. */
export const frontierPngWidth = 800;

/** One model's point, as the chart's data rows. */
interface FrontierPoint {
  readonly model: string;
  readonly label: string;
  readonly baseline: boolean;
  readonly helpfulness: number;
  readonly helpfulnessLow: number;
  readonly helpfulnessHigh: number;
  readonly harmlessness: number;
  readonly harmlessnessLow: number;
  readonly harmlessnessHigh: number;
}

/** The ratings a frontier chart places, a title and the judge its subtitle names. */
export interface FrontierSource {
  /** Ratings of the report's models, in {@link EvalReportData.models} order. */
  readonly axes: Readonly<Record<EvalAxis, AxisReport>>;
  /** The chart's title; "Harmlessness vs helpfulness" when absent. */
  readonly title?: string | undefined;
  /** The judge named in the subtitle; the report's judge ({@link EvalReportData.run}) when absent. */
  readonly judge?: string | undefined;
}

/** The frontier of the report's judge model: its ratings, the default title. */
export function judgeFrontier(data: EvalReportData): FrontierSource {
  return { axes: data.axes, judge: data.run.judge };
}

/** The frontier of the report's ground-truth judge, titled by it; undefined when the report has none. */
export function groundTruthFrontier(data: EvalReportData): FrontierSource | undefined {
  const truth = data.groundTruth;
  return truth && { axes: truth.axes, title: `Frontier judged by ${truth.judge}`, judge: truth.judge };
}

/** The models that can be placed: rated, with finite intervals, on both axes. */
function frontierPoints(data: EvalReportData, axes: FrontierSource["axes"]): FrontierPoint[] {
  const baseline = baselineOf(data).name;
  return data.models.flatMap((model, i): FrontierPoint[] => {
    const help = axes.helpfulness.ratings[i];
    const harm = axes.harmlessness.ratings[i];
    if (!help || !harm) return [];
    const values = [help.elo, ...help.interval, harm.elo, ...harm.interval];
    if (!values.every(Number.isFinite)) return [];
    return [
      {
        model: model.name,
        label: model.name === baseline ? `${model.name} (baseline)` : model.name,
        baseline: model.name === baseline,
        helpfulness: help.elo,
        helpfulnessLow: help.interval[0],
        helpfulnessHigh: help.interval[1],
        harmlessness: harm.elo,
        harmlessnessLow: harm.interval[0],
        harmlessnessHigh: harm.interval[1],
      },
    ];
  });
}

/**
 * The names of the models the chart of `axes` (the judge model's by default) cannot place (no comparisons
 * on an axis, or unbounded intervals).
 */
export function unplacedModels(data: EvalReportData, axes: FrontierSource["axes"] = data.axes): string[] {
  const placed = new Set(frontierPoints(data, axes).map((p) => p.model));
  return data.models.map((m) => m.name).filter((name) => !placed.has(name));
}

/**
 * The vega-lite spec of the frontier: interval bars (rules) on both axes, a filled point per model (a
 * square for the baseline), and its name beside it. Colour by model from {@link frontierPalette}; no
 * legend, since every point carries its label. Draws the ratings of `source`, the judge model's by default.
 */
export function frontierSpec(
  data: EvalReportData,
  source: FrontierSource = judgeFrontier(data),
): TopLevelSpec {
  const percent = Math.round(data.run.confidence * 100);
  const colour = {
    field: "model",
    type: "nominal",
    legend: null,
    scale: { domain: data.models.map((m) => m.name), range: data.models.map((_, i) => modelColour(i)) },
  } as const;
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: {
      text: source.title ?? "Harmlessness vs helpfulness",
      subtitle: `Elo (Bradley–Terry), ${percent}% bootstrap intervals; judge ${source.judge ?? data.run.judge}`,
    },
    width: 520,
    height: 400,
    background: "white",
    data: { values: frontierPoints(data, source.axes) },
    encoding: {
      x: {
        field: "helpfulness",
        type: "quantitative",
        title: "Helpfulness Elo",
        scale: { zero: false, nice: true, padding: 24 },
        axis: { format: "d" },
      },
      y: {
        field: "harmlessness",
        type: "quantitative",
        title: "Harmlessness Elo",
        scale: { zero: false, nice: true, padding: 24 },
        axis: { format: "d" },
      },
    },
    layer: [
      {
        mark: { type: "rule", strokeWidth: 2 },
        encoding: { x: { field: "helpfulnessLow" }, x2: { field: "helpfulnessHigh" }, color: colour },
      },
      {
        mark: { type: "rule", strokeWidth: 2 },
        encoding: { y: { field: "harmlessnessLow" }, y2: { field: "harmlessnessHigh" }, color: colour },
      },
      {
        mark: { type: "point", filled: true, size: 140, opacity: 1 },
        encoding: {
          color: colour,
          shape: {
            field: "baseline",
            type: "nominal",
            legend: null,
            scale: { domain: [true, false], range: ["square", "circle"] },
          },
        },
      },
      {
        mark: { type: "text", align: "left", baseline: "bottom", dx: 8, dy: -6, fontSize: 12, color: "#222" },
        encoding: { text: { field: "label" } },
      },
    ],
    config: { font: "sans-serif", view: { stroke: "#ddd" } },
  };
}

/** The frontier chart of `source` (the judge model's by default) as a standalone SVG document. */
export async function frontierSvg(
  data: EvalReportData,
  source: FrontierSource = judgeFrontier(data),
): Promise<string> {
  const view = new View(parse(compile(frontierSpec(data, source)).spec), { renderer: "none" });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** The SVG rasterised to a PNG {@link frontierPngWidth} pixels wide on a white background. */
export function frontierPng(svg: string): Buffer {
  return new Resvg(svg, {
    background: "white",
    fitTo: { mode: "width", value: frontierPngWidth },
    font: { loadSystemFonts: true, sansSerifFamily: "DejaVu Sans" },
  })
    .render()
    .asPng();
}
