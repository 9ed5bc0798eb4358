// The chart by which Constitutional AI was presented: harmlessness Elo against helpfulness Elo, one point
// per model with its 95% interval on both axes. Declared in vega-lite, compiled to vega and rendered to SVG
// in Node (no browser, no canvas), then rasterised to PNG with resvg.
import { Resvg } from "@resvg/resvg-js";
import { parse, View } from "vega";
import { compile, type TopLevelSpec } from "vega-lite";
import type { EvalAxis } from "../rubrics.js";
import { type AxisReport, baselineOf, type EvalReportData, judgeName } from "./report-data.js";

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
  /** The judge named in the subtitle; the report's judge ({@link judgeName}) when absent. */
  readonly judge?: string | undefined;
}

/**
 * The frontier of the report's judge model: its ratings, the default title, the judge named as
 * {@link judgeName} does (a contestant by its name, not its spec's path).
 */
export function judgeFrontier(data: EvalReportData): FrontierSource {
  return { axes: data.axes, judge: judgeName(data) };
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

/** How far a chart's points and interval bars reach on each axis (highest high − lowest low), in Elo. */
export type AxisSpans = Readonly<Record<EvalAxis, number>>;

/** The spans of the chart of `axes` (the judge model's by default); NaN on an axis when nothing is placed. */
export function axisSpans(data: EvalReportData, axes: FrontierSource["axes"] = data.axes): AxisSpans {
  const points = frontierPoints(data, axes);
  const span = (low: (p: FrontierPoint) => number, high: (p: FrontierPoint) => number) =>
    points.length === 0 ? Number.NaN : Math.max(...points.map(high)) - Math.min(...points.map(low));
  return {
    helpfulness: span(
      (p) => p.helpfulnessLow,
      (p) => p.helpfulnessHigh,
    ),
    harmlessness: span(
      (p) => p.harmlessnessLow,
      (p) => p.harmlessnessHigh,
    ),
  };
}

/**
 * Spans differing by this factor or more get a note on the narrower axis. Each axis is scaled to its own
 * data, so without it a difference of 28 Elo would look as large as one of 500.
 */
export const zoomNoteRatio = 2;

/**
 * The note the narrower axis carries when one axis spans {@link zoomNoteRatio} times the other or more
 * (e.g. "helpfulness axis zoomed: spans 28 Elo vs 500 on harmlessness"); undefined when the two scales are
 * comparable or an axis has nothing placed.
 */
export function axisZoomNote(
  data: EvalReportData,
  axes: FrontierSource["axes"] = data.axes,
): string | undefined {
  const spans = axisSpans(data, axes);
  const [narrow, wide] =
    spans.helpfulness <= spans.harmlessness
      ? (["helpfulness", "harmlessness"] as const)
      : (["harmlessness", "helpfulness"] as const);
  if (!Number.isFinite(spans[narrow]) || !Number.isFinite(spans[wide])) return undefined;
  if (spans[wide] < zoomNoteRatio * spans[narrow]) return undefined;
  const span = spans[narrow].toFixed(0);
  // No spread at all (e.g. a judge that tied every pair): the axis's ticks are made up around one value.
  const at = frontierPoints(data, axes)[0]?.[narrow];
  const flat = span === "0" && at !== undefined ? ` (every rating at ${at.toFixed(0)})` : "";
  return `${narrow} axis zoomed: spans ${span} Elo${flat} vs ${spans[wide].toFixed(0)} on ${wide}`;
}

/**
 * The vega-lite spec of the frontier: interval bars (rules) on both axes, a filled point per model (a
 * square for the baseline), and its name beside it. Colour by model from {@link frontierPalette}; no
 * legend, since every point carries its label. Draws the ratings of `source`, the judge model's by default.
 * Each axis is scaled to its data; a much narrower one says so under its title ({@link axisZoomNote}).
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
  const zoomNote = axisZoomNote(data, source.axes);
  const axisTitle = (axis: EvalAxis, title: string) =>
    zoomNote?.startsWith(`${axis} `) ? [title, `(${zoomNote})`] : title;
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: {
      text: source.title ?? "Harmlessness vs helpfulness",
      subtitle: `Elo (Bradley–Terry), ${percent}% bootstrap intervals; judge ${source.judge ?? judgeName(data)}`,
    },
    width: 520,
    height: 400,
    background: "white",
    data: { values: frontierPoints(data, source.axes) },
    encoding: {
      x: {
        field: "helpfulness",
        type: "quantitative",
        title: axisTitle("helpfulness", "Helpfulness Elo"),
        scale: { zero: false, nice: true, padding: 24 },
        axis: { format: "d" },
      },
      y: {
        field: "harmlessness",
        type: "quantitative",
        title: axisTitle("harmlessness", "Harmlessness Elo"),
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
