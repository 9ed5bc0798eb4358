// The evaluation report as one self-contained HTML page — inline CSS, the frontier SVG inline, no script
// and no external request, so it opens from a file or an e-mail attachment — and `writeReport`, which
// writes it beside frontier.svg, frontier.png (and frontier-truth.svg/.png when the report has a
// ground-truth judge) and the report.json it can be drawn again from.
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import {
  axisZoomNote,
  frontierPng,
  frontierSvg,
  groundTruthFrontier,
  modelColours,
  unplacedModels,
} from "./frontier-chart.js";
import {
  type EvalReportData,
  judgeName,
  type ReportRate,
  type ReportTable,
  type ReportTableCell,
  reportAxes,
  type SamplePair,
} from "./report-data.js";

/** `text` safe to place in HTML element content and in quoted attribute values. */
export function escapeHtml(text: string): string {
  return text
    .replaceAll("&", "&amp;")
    .replaceAll("<", "&lt;")
    .replaceAll(">", "&gt;")
    .replaceAll('"', "&quot;")
    .replaceAll("'", "&#39;");
}

const dash = "—";

function elo(value: number): string {
  return Number.isFinite(value) ? value.toFixed(0) : dash;
}

function percent(value: number): string {
  return Number.isFinite(value) ? `${(value * 100).toFixed(1)}%` : dash;
}

function interval([low, high]: readonly [number, number]): string {
  return Number.isFinite(low) && Number.isFinite(high) ? `[${elo(low)}, ${elo(high)}]` : dash;
}

const style = `
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: #222; margin: 2rem auto;
  max-width: 60rem; padding: 0 1rem; }
h1 { font-size: 1.6rem; margin-bottom: 0.2rem; }
h2 { font-size: 1.25rem; margin-top: 2.2rem; border-bottom: 1px solid #ddd; padding-bottom: 0.2rem; }
table { border-collapse: collapse; margin: 0.6rem 0; }
th, td { border: 1px solid #ddd; padding: 0.3rem 0.6rem; text-align: left; vertical-align: top; }
td.number { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
th { background: #f5f5f5; }
code { font-size: 0.9em; overflow-wrap: anywhere; }
.swatch { display: inline-block; width: 0.8em; height: 0.8em; margin-right: 0.4em; border-radius: 2px; }
.meta { color: #555; }
figure { margin: 1rem 0; }
figure svg { max-width: 100%; height: auto; }
.pair { border: 1px solid #ddd; border-radius: 6px; padding: 0.6rem 1rem; margin: 1rem 0; }
.responses { display: grid; grid-template-columns: 1fr 1fr; gap: 1rem; }
.text { white-space: pre-wrap; overflow-wrap: anywhere; background: #fafafa; padding: 0.5rem;
  border-radius: 4px; margin: 0.3rem 0; }
.chosen { outline: 2px solid #59a14f; }
table.extra td:first-child { min-width: 6.5em; }
details { margin: 0.4rem 0; }
summary { cursor: pointer; color: #555; }
`;

function ratingTable(data: EvalReportData, axes: EvalReportData["axes"] = data.axes, id = "ratings"): string {
  const percentLabel = `${Math.round(data.run.confidence * 100)}% interval`;
  const header = reportAxes
    .map((axis) => `<th>${axis} Elo</th><th>${percentLabel}</th><th>comparisons</th>`)
    .join("");
  const colours = modelColours(data.models.map((m) => m.name));
  const rows = data.models.map((model, i) => {
    const cells = reportAxes.map((axis) => {
      const rating = axes[axis].ratings[i];
      if (!rating) return `<td>${dash}</td>`.repeat(3);
      return `<td class="number">${elo(rating.elo)}</td><td class="number">${interval(rating.interval)}</td><td class="number">${rating.comparisons}</td>`;
    });
    return `<tr><td><span class="swatch" style="background:${colours[i]}"></span>${escapeHtml(model.name)}${model.baseline ? " (baseline)" : ""}</td>${cells.join("")}</tr>`;
  });
  return `<table id="${id}"><thead><tr><th>model</th>${header}</tr></thead><tbody>${rows.join("")}</tbody></table>`;
}

/**
 * The models' spec strings, folded away under the ratings: a spec is often an absolute path (or two, with
 * an adapter) that would wrap over many lines in a table column, so the tables name models by name only.
 */
function specDetails(data: EvalReportData): string {
  const rows = data.models
    .map(
      (model) => `<tr><td>${escapeHtml(model.name)}</td><td><code>${escapeHtml(model.spec)}</code></td></tr>`,
    )
    .join("");
  return `<details id="model-specs"><summary>Model specs</summary><table><thead><tr><th>model</th><th>spec</th></tr></thead><tbody>${rows}</tbody></table></details>`;
}

/** The judge as the header names it: by its name when it is also a contestant (its spec is in the details). */
function judgeLabel(data: EvalReportData): string {
  const name = judgeName(data);
  return name === data.run.judge
    ? `<code>${escapeHtml(name)}</code>`
    : `<strong>${escapeHtml(name)}</strong> (a contestant)`;
}

/**
 * The report's date to the minute in UTC (`2026-12-03 14:05 UTC`) inside a `<time>` element; a date that
 * does not parse is shown as written.
 */
export function reportDate(date: string): string {
  const parsed = new Date(date);
  if (Number.isNaN(parsed.getTime())) return escapeHtml(date);
  const iso = parsed.toISOString();
  return `<time datetime="${escapeHtml(iso)}">${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC</time>`;
}

function rateCells(rate: ReportRate): string {
  return `<td class="number">${percent(rate.rate)}</td><td class="number">${percent(rate.meanProbability)}</td><td class="number">${rate.n}</td>`;
}

function rateTable(data: EvalReportData): string {
  const rows = data.rates.map(
    (rates) =>
      `<tr><td>${escapeHtml(rates.model)}</td>${rateCells(rates.overRefusal)}${rateCells(rates.harmfulCompliance)}</tr>`,
  );
  return `<table id="rates"><thead><tr><th rowspan="2">model</th><th colspan="3">over-refusal on benign prompts</th><th colspan="3">harmful compliance on red-team prompts</th></tr><tr><th>rate</th><th>mean P</th><th>n</th><th>rate</th><th>mean P</th><th>n</th></tr></thead><tbody>${rows.join("")}</tbody></table>`;
}

/**
 * A number of an extra table: an integer as is, otherwise at most 3 decimals (3 significant digits below
 * 1, so small values do not round to 0), trailing zeros dropped; a dash when not finite.
 */
export function formatTableNumber(value: number): string {
  if (!Number.isFinite(value)) return dash;
  if (Number.isInteger(value)) return String(value);
  return String(Number(Math.abs(value) >= 1 ? value.toFixed(3) : value.toPrecision(3)));
}

function tableCell(cell: ReportTableCell): string {
  if (cell === null) return `<td class="number">${dash}</td>`;
  if (typeof cell === "number") return `<td class="number">${formatTableNumber(cell)}</td>`;
  return `<td>${escapeHtml(cell)}</td>`;
}

function extraTable(table: ReportTable, index: number): string {
  const note = table.note === undefined ? "" : `\n<p class="meta">${escapeHtml(table.note)}</p>`;
  const header = table.columns.map((column) => `<th>${escapeHtml(column)}</th>`).join("");
  const rows = table.rows.map((row) => `<tr>${row.map(tableCell).join("")}</tr>`).join("");
  return `<h2>${escapeHtml(table.title)}</h2>${note}
<table id="table-${index + 1}" class="extra"><thead><tr>${header}</tr></thead><tbody>${rows}</tbody></table>
`;
}

function consistencyTable(data: EvalReportData): string {
  const rows = reportAxes.map((axis) => {
    const { positionConsistency, comparisons } = data.axes[axis];
    return `<tr><td>${axis}</td><td class="number">${percent(positionConsistency)}</td><td class="number">${comparisons}</td></tr>`;
  });
  return `<table id="position-consistency"><thead><tr><th>axis</th><th>both orders agree</th><th>pairs</th></tr></thead><tbody>${rows.join("")}</tbody></table>`;
}

function samplePair(sample: SamplePair, index: number): string {
  const verdict =
    sample.verdict === "tie"
      ? "tie"
      : `${escapeHtml(sample[sample.verdict].model)} ${sample.axis === "helpfulness" ? "more helpful" : "more harmless"}`;
  const response = (side: "first" | "second") =>
    `<div><strong>${escapeHtml(sample[side].model)}</strong><div class="text${sample.verdict === side ? " chosen" : ""}">${escapeHtml(sample[side].response)}</div></div>`;
  const reasoning =
    sample.reasoning === undefined
      ? ""
      : `<details open><summary>The judge's reasoning</summary><div class="text">${escapeHtml(sample.reasoning)}</div></details>`;
  return `<section class="pair" id="pair-${index + 1}"><h3>Pair ${index + 1} · ${sample.axis}</h3><div class="text">${escapeHtml(sample.prompt)}</div><div class="responses">${response("first")}${response("second")}</div><p>Verdict: <strong>${verdict}</strong> · P(${escapeHtml(sample.first.model)} better) = ${sample.pFirst.toFixed(3)} · ${sample.consistent ? "both orders agree" : "the two orders disagree"}</p>${reasoning}</section>`;
}

/** The SVG document's root element, for placing inline (drops an XML declaration if there is one). */
function inlineSvg(svg: string): string {
  const start = svg.indexOf("<svg");
  return start < 0 ? "" : svg.slice(start);
}

function unplacedNote(unplaced: readonly string[]): string {
  return unplaced.length === 0
    ? ""
    : `<p class="meta">Not on the chart (no comparisons or unbounded intervals on an axis): ${unplaced.map(escapeHtml).join(", ")}.</p>`;
}

/**
 * The report page for `data`: the header, the tables marked `lead` (the result), the frontier chart `svg`
 * (from {@link frontierSvg}) inline, and, when
 * the report has a ground-truth judge, its frontier `truthSvg` (from `frontierSvg(data,
 * groundTruthFrontier(data))`) below it; without `truthSvg` only the ground truth's table is shown.
 */
export function reportHtml(data: EvalReportData, svg: string, truthSvg?: string): string {
  const { run, groundTruth } = data;
  const intervals = `bars are ${Math.round(run.confidence * 100)}% bootstrap intervals`;
  const zoom = (note: string | undefined) => (note === undefined ? "" : ` The ${note}.`);
  const tables = (data.tables ?? []).map((table, index) => ({ table, index }));
  const extraTables = (lead: boolean) =>
    tables
      .filter(({ table }) => (table.lead === true) === lead)
      .map(({ table, index }) => extraTable(table, index))
      .join("");
  const truthFigure =
    groundTruth && truthSvg !== undefined
      ? `<figure id="frontier-truth">${inlineSvg(truthSvg)}<figcaption class="meta">The same contestants rated from the judgments of <code>${escapeHtml(groundTruth.judge)}</code>, the exact judge; ${intervals}.${zoom(axisZoomNote(data, groundTruth.axes))}</figcaption></figure>
${unplacedNote(unplacedModels(data, groundTruth.axes))}
`
      : "";
  const truthRatings = groundTruth
    ? `<h2>Ratings by the ground-truth judge</h2>
<p class="meta">Ratings of the same comparisons judged by <code>${escapeHtml(groundTruth.judge)}</code>, fitted the same way and kept apart from the judge model's.</p>
${ratingTable(data, groundTruth.axes, "ground-truth-ratings")}
`
    : "";
  const rateNote = `Share of the answers to the ${run.prompts.helpful} helpfulness prompts that the judge, ${judgeLabel(data)}, classified as a refusal, and of the answers to the ${run.prompts.redTeam} red-team prompts it classified as real help with harm; lower is better for both. Mean P is the judge's mean probability.${groundTruth ? " These are the judge model's classifications, not ground truth's." : ""}`;
  const samples =
    data.samples.length === 0
      ? '<p class="meta">No sample pairs.</p>'
      : data.samples.map(samplePair).join("");
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>cai eval report</title>
<style>${style}</style>
</head>
<body>
<h1>Evaluation report</h1>
<p class="meta">Judge ${judgeLabel(data)} · seed ${run.seed} · ${reportDate(run.date)} · ${run.prompts.helpful} helpfulness prompts, ${run.prompts.redTeam} red-team prompts · ${run.bootstrapRounds} bootstrap rounds · ratings anchored at ${run.baseRating} on the baseline</p>
${extraTables(true)}<h2>Frontier</h2>
<figure id="frontier">${inlineSvg(svg)}<figcaption class="meta">Harmlessness Elo against helpfulness Elo, judged by ${judgeLabel(data)}; ${intervals}. Up and to the right is better.${zoom(axisZoomNote(data))}</figcaption></figure>
${unplacedNote(unplacedModels(data))}
${truthFigure}<h2>Ratings</h2>
${ratingTable(data)}
${specDetails(data)}
${truthRatings}<h2>Rates</h2>
<p class="meta">${rateNote}</p>
${rateTable(data)}
${extraTables(false)}${(data.figures ?? [])
  // Each as an image: charts inlined side by side would share their clip-path ids.
  .map(
    (f, i) =>
      `<h2>${escapeHtml(f.title)}</h2>\n<figure id="figure-${i}"><img alt="${escapeHtml(f.title)}" src="data:image/svg+xml;base64,${Buffer.from(f.svg).toString("base64")}">${f.note ? `<figcaption class="meta">${escapeHtml(f.note)}</figcaption>` : ""}</figure>\n`,
  )
  .join("")}<h2>Position consistency</h2>
<p class="meta">Every pair was judged in both orders; this is how often both orders preferred the same response.</p>
${consistencyTable(data)}
${
  data.human
    ? `<h2>Human judgments</h2>
<p class="meta">Ratings from ${data.human.answers} answers a person gave to the same comparisons (<code>cai judge</code>), fitted the same way and kept apart from the judge model's.</p>
${ratingTable(data, data.human.axes, "human-ratings")}`
    : ""
}
<h2>Sample pairs</h2>
${samples}
</body>
</html>
`;
}

/** The files {@link writeReport} wrote. */
export interface WrittenReport {
  readonly html: string;
  readonly svg: string;
  readonly png: string;
  readonly json: string;
  /** frontier-truth.svg, the ground-truth judge's frontier; only when the report has one. */
  readonly truthSvg?: string;
  /** frontier-truth.png; only when the report has a ground-truth judge. */
  readonly truthPng?: string;
}

/**
 * Writes report.html, frontier.svg, frontier.png and report.json into `dir` (created if missing), and
 * frontier-truth.svg and frontier-truth.png when the report has a ground-truth judge.
 */
export async function writeReport(dir: string, data: EvalReportData): Promise<WrittenReport> {
  await mkdir(dir, { recursive: true });
  const svg = await frontierSvg(data);
  const truth = groundTruthFrontier(data);
  const truthSvg = truth && (await frontierSvg(data, truth));
  const main = {
    html: path.join(dir, "report.html"),
    svg: path.join(dir, "frontier.svg"),
    png: path.join(dir, "frontier.png"),
    json: path.join(dir, "report.json"),
  };
  const writes = [
    writeFile(main.html, reportHtml(data, svg, truthSvg)),
    writeFile(main.svg, svg),
    writeFile(main.png, frontierPng(svg)),
    writeFile(main.json, `${JSON.stringify(data, null, 2)}\n`),
  ];
  let files: WrittenReport = main;
  if (truthSvg !== undefined) {
    const truthFiles = {
      truthSvg: path.join(dir, "frontier-truth.svg"),
      truthPng: path.join(dir, "frontier-truth.png"),
    };
    writes.push(
      writeFile(truthFiles.truthSvg, truthSvg),
      writeFile(truthFiles.truthPng, frontierPng(truthSvg)),
    );
    files = { ...main, ...truthFiles };
  }
  await Promise.all(writes);
  return files;
}
