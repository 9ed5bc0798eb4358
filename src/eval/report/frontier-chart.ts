// The chart by which Constitutional AI was presented: harmlessness Elo against helpfulness Elo, one point
// per model with its 95% interval on both axes. Declared in vega-lite, compiled to vega and rendered to SVG
// in Node (no browser, no canvas), then rasterised to PNG with resvg.
import { Resvg } from "@resvg/resvg-js";
import type { TopLevelSpec } from "vega-lite";
import type { EvalAxis } from "../rubrics.js";
import { type AxisReport, baselineOf, type EvalReportData, judgeName } from "./report-data.js";
import { vegaLiteSvg } from "./vega-svg.js";

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

/**
 * A contestant named `RUN@STEP` (e.g. `rl-cai@50`) is checkpoint STEP of training run RUN: the frontier
 * draws a run's checkpoints as one line, in step order, as the paper's figure draws RL training.
 */
export function trajectoryOf(name: string): { run: string; step: number } | undefined {
  const match = /^(.+)@(\d+)$/.exec(name);
  return match ? { run: match[1] as string, step: Number(match[2]) } : undefined;
}

/** The run a model belongs to: its trajectory's, or itself. */
function runOf(name: string): string {
  return trajectoryOf(name)?.run ?? name;
}

/**
 * The colour of each of the report's models: one per run, in order of first appearance, so a run's
 * checkpoints share their line's colour; a model outside any trajectory has its own.
 */
export function modelColours(modelNames: readonly string[]): string[] {
  const runs = [...new Set(modelNames.map(runOf))];
  return modelNames.map((name) => modelColour(runs.indexOf(runOf(name))));
}

/** Width of frontier.png in pixels. */
export const frontierPngWidth = 800;

/** One model's point, as the chart's data rows. */
interface FrontierPoint {
  readonly model: string;
  /** The training run (the name before `@STEP`), or the model's own name. */
  readonly run: string;
  /** The checkpoint's step (0 outside a trajectory). */
  readonly step: number;
  /** Whether the run has several placed checkpoints (a line is drawn through them). */
  readonly trajectory: boolean;
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
  const points = data.models.flatMap((model, i): Omit<FrontierPoint, "trajectory">[] => {
    const help = axes.helpfulness.ratings[i];
    const harm = axes.harmlessness.ratings[i];
    if (!help || !harm) return [];
    const values = [help.elo, ...help.interval, harm.elo, ...harm.interval];
    if (!values.every(Number.isFinite)) return [];
    return [
      {
        model: model.name,
        run: runOf(model.name),
        step: trajectoryOf(model.name)?.step ?? 0,
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
  const perRun = new Map<string, number>();
  for (const p of points) perRun.set(p.run, (perRun.get(p.run) ?? 0) + 1);
  return points.map((p) => ({ ...p, trajectory: (perRun.get(p.run) ?? 0) > 1 }));
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
 * square for the baseline), its name beside it, and a line through each training run's checkpoints
 * (models named `RUN@STEP`, {@link trajectoryOf}). Colour by run from {@link frontierPalette}; no
 * legend, since every point carries its label. Draws the ratings of `source`, the judge model's by default.
 * Each axis is scaled to its data; a much narrower one says so under its title ({@link axisZoomNote}).
 */
export function frontierSpec(
  data: EvalReportData,
  source: FrontierSource = judgeFrontier(data),
): TopLevelSpec {
  const percent = Math.round(data.run.confidence * 100);
  // Coloured by run, so a run's checkpoints and the line through them share one colour.
  const runs = [...new Set(data.models.map((m) => runOf(m.name)))];
  const colour = {
    field: "run",
    type: "nominal",
    legend: null,
    scale: { domain: runs, range: runs.map((_, i) => modelColour(i)) },
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
        // A training run's checkpoints, joined in step order (drawn under the points).
        transform: [{ filter: "datum.trajectory" }],
        mark: { type: "line", strokeWidth: 1.5, opacity: 0.8 },
        encoding: { color: colour, order: { field: "step", type: "quantitative" } },
      },
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
  return vegaLiteSvg(frontierSpec(data, source));
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
