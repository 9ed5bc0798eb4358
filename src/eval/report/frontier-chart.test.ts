import { PNG } from "pngjs";
import { describe, expect, it } from "vitest";
import { exampleDemoReportData, exampleOrganismReportData, exampleReportData } from "./example-report.js";
import {
  axisSpans,
  axisZoomNote,
  frontierPalette,
  frontierPng,
  frontierPngWidth,
  frontierSpec,
  frontierSvg,
  groundTruthFrontier,
  judgeFrontier,
  modelColour,
  modelColours,
  trajectoryOf,
  unplacedModels,
} from "./frontier-chart.js";
import type { EvalReportData } from "./report-data.js";

/** RGB of a `#rrggbb` colour. */
function rgb(hex: string): [number, number, number] {
  return [1, 3, 5].map((i) => Number.parseInt(hex.slice(i, i + 2), 16)) as [number, number, number];
}

/**
 * Sizes of the 4-connected regions of pixels within `tolerance` (per channel) of `colour`: a marker with
 * its interval bars is one region; anti-aliased edges fall outside the tolerance.
 */
function regionsOf(image: PNG, colour: string, tolerance = 24): number[] {
  const [r, g, b] = rgb(colour);
  const { width, height, data } = image;
  const matches = new Uint8Array(width * height);
  for (let p = 0; p < width * height; p += 1)
    matches[p] =
      Math.abs(data[4 * p]! - r) <= tolerance &&
      Math.abs(data[4 * p + 1]! - g) <= tolerance &&
      Math.abs(data[4 * p + 2]! - b) <= tolerance
        ? 1
        : 0;
  const sizes: number[] = [];
  for (let start = 0; start < matches.length; start += 1) {
    if (matches[start] !== 1) continue;
    matches[start] = 2;
    const stack = [start];
    let size = 0;
    while (stack.length > 0) {
      const p = stack.pop()!;
      size += 1;
      const x = p % width;
      const neighbours = [p - width, p + width, x > 0 ? p - 1 : -1, x < width - 1 ? p + 1 : -1];
      for (const q of neighbours)
        if (q >= 0 && q < matches.length && matches[q] === 1) {
          matches[q] = 2;
          stack.push(q);
        }
    }
    sizes.push(size);
  }
  return sizes;
}

/** Regions big enough to be a marker (a filled point is about 230 pixels at 800 px wide; a ring of anti-aliased edge pixels is under 100). */
function markersOf(image: PNG, colour: string): number {
  return regionsOf(image, colour).filter((size) => size >= 150).length;
}

describe("frontier chart", () => {
  it("renders frontier.png of three models non-blank, with exactly one marker in each model's colour", async () => {
    const png = PNG.sync.read(frontierPng(await frontierSvg(exampleReportData())));
    expect(png.width).toBe(frontierPngWidth);
    let ink = 0;
    for (let p = 0; p < png.width * png.height; p += 1)
      if (png.data[4 * p]! < 240 || png.data[4 * p + 1]! < 240 || png.data[4 * p + 2]! < 240) ink += 1;
    expect(ink).toBeGreaterThan(5000);
    expect([0, 1, 2].map((i) => markersOf(png, modelColour(i)))).toEqual([1, 1, 1]);
    // No other palette colour appears as a marker (no legend, no stray points).
    for (const colour of frontierPalette.slice(3)) expect(markersOf(png, colour)).toBe(0);
  });

  it("labels each model in the SVG, marks the baseline, and escapes model names", async () => {
    const data = exampleReportData();
    const renamed: EvalReportData = {
      ...data,
      models: data.models.map((m, i) => (i === 2 ? { ...m, name: "cai<&>" } : m)),
      axes: {
        helpfulness: {
          ...data.axes.helpfulness,
          ratings: data.axes.helpfulness.ratings.map((r, i) => (i === 2 ? { ...r, model: "cai<&>" } : r)),
        },
        harmlessness: {
          ...data.axes.harmlessness,
          ratings: data.axes.harmlessness.ratings.map((r, i) => (i === 2 ? { ...r, model: "cai<&>" } : r)),
        },
      },
    };
    const svg = await frontierSvg(renamed);
    expect(svg.startsWith("<svg")).toBe(true);
    expect(svg).toContain(">base (baseline)<");
    expect(svg).toContain(">rlhf<");
    expect(svg).toContain(">cai&lt;&amp;&gt;<");
    expect(svg).not.toContain("cai<&>");
    expect(svg).toContain("Helpfulness Elo");
    expect(svg).toContain("Harmlessness Elo");
  });

  it("leaves out a model without ratings on an axis and names it", async () => {
    const data = exampleReportData();
    const unrated: EvalReportData = {
      ...data,
      axes: {
        ...data.axes,
        harmlessness: {
          ...data.axes.harmlessness,
          ratings: data.axes.harmlessness.ratings.map((r, i) =>
            i === 1 ? { ...r, elo: Number.NaN, interval: [Number.NaN, Number.NaN] } : r,
          ),
        },
      },
    };
    expect(unplacedModels(unrated)).toEqual(["rlhf"]);
    const png = PNG.sync.read(frontierPng(await frontierSvg(unrated)));
    expect([0, 1, 2].map((i) => markersOf(png, modelColour(i)))).toEqual([1, 0, 1]);
  });

  it("draws the ground-truth judge's ratings as a second frontier, titled by it", async () => {
    expect(groundTruthFrontier(exampleReportData())).toBeUndefined();
    const data = exampleOrganismReportData();
    const truth = groundTruthFrontier(data)!;
    expect(truth.axes).toBe(data.groundTruth!.axes);
    expect(truth.title).toBe("Frontier judged by organism:./truth.json");
    // The default is the judge model's frontier, as before.
    expect(frontierSpec(data)).toEqual(frontierSpec(data, judgeFrontier(data)));
    const judgeSvg = await frontierSvg(data);
    expect(judgeSvg).toContain(">Harmlessness vs helpfulness<");
    expect(judgeSvg).toContain("judge llama:./judge.gguf");
    const svg = await frontierSvg(data, truth);
    expect(svg).toContain(">Frontier judged by organism:./truth.json<");
    expect(svg).toContain("judge organism:./truth.json");
    expect(svg).not.toBe(judgeSvg);
    const png = PNG.sync.read(frontierPng(svg));
    expect([0, 1, 2].map((i) => markersOf(png, modelColour(i)))).toEqual([1, 1, 1]);
  });

  it("names the models a given set of ratings cannot place", () => {
    const data = exampleOrganismReportData();
    const truth = data.groundTruth!.axes;
    const unrated = {
      ...truth,
      helpfulness: {
        ...truth.helpfulness,
        ratings: truth.helpfulness.ratings.map((r, i) =>
          i === 0 ? { ...r, interval: [Number.NaN, 1] as const } : r,
        ),
      },
    };
    expect(unplacedModels(data, unrated)).toEqual(["base"]);
    expect(unplacedModels(data)).toEqual([]);
  });
});

describe("frontier chart scales", () => {
  it("says on the chart when one axis is zoomed far beyond the other (23 Elo vs 460)", async () => {
    const data = exampleDemoReportData();
    expect(axisSpans(data)).toEqual({ helpfulness: 23, harmlessness: 460 });
    const note = "helpfulness axis zoomed: spans 23 Elo vs 460 on harmlessness";
    expect(axisZoomNote(data)).toBe(note);
    const svg = await frontierSvg(data);
    expect(svg).toContain(`>(${note})<`);
    // The note sits under the helpfulness axis's title, not the harmlessness one's.
    const spec = JSON.stringify(frontierSpec(data));
    expect(spec).toContain(`"title":["Helpfulness Elo","(${note})"]`);
    expect(spec).toContain('"title":"Harmlessness Elo"');
    // The other way round, and for the ground truth's own ratings.
    const swapped = {
      ...data.axes,
      helpfulness: data.axes.harmlessness,
      harmlessness: data.axes.helpfulness,
    };
    expect(axisZoomNote(data, swapped)).toBe("harmlessness axis zoomed: spans 23 Elo vs 460 on helpfulness");
    expect(await frontierSvg(data, groundTruthFrontier(data))).toContain(`>(${note})<`);
    // A judge that tied every helpfulness pair: no spread at all, said so.
    const tied = data.axes.helpfulness.ratings.map((r) => ({
      ...r,
      elo: 1000,
      interval: [1000, 1000] as const,
    }));
    const flat = { ...data.axes, helpfulness: { ...data.axes.helpfulness, ratings: tied } };
    expect(axisZoomNote(data, flat)).toBe(
      "helpfulness axis zoomed: spans 0 Elo (every rating at 1000) vs 460 on harmlessness",
    );
  });

  it("adds no note when the two spans are comparable or nothing is placed", async () => {
    const data = exampleReportData();
    expect(axisSpans(data)).toEqual({ helpfulness: 230, harmlessness: 345 });
    expect(axisZoomNote(data)).toBeUndefined();
    expect(await frontierSvg(data)).not.toContain("zoomed");
    const unrated = data.axes.helpfulness.ratings.map((r) => ({
      ...r,
      interval: [Number.NaN, Number.NaN] as const,
    }));
    const none = { ...data.axes, helpfulness: { ...data.axes.helpfulness, ratings: unrated } };
    expect(axisZoomNote(data, none)).toBeUndefined();
  });
});

describe("training trajectories", () => {
  /** The example report with its two non-baseline models renamed as checkpoints of one run, plus a third. */
  function trajectoryData(): EvalReportData {
    const data = exampleReportData();
    const rename = (name: string) => (name === "rlhf" ? "rl@10" : name === "rl-cai" ? "rl@20" : name);
    const extra = { model: "rl@30", elo: 1120, interval: [1080, 1160] as [number, number], comparisons: 80 };
    const axis = (a: EvalReportData["axes"]["helpfulness"], harm: number) => ({
      ...a,
      ratings: [
        ...a.ratings.map((r) => ({ ...r, model: rename(r.model) })),
        { ...extra, elo: harm, interval: [harm - 40, harm + 40] as [number, number] },
      ],
    });
    return {
      ...data,
      models: [
        ...data.models.map((m) => ({ ...m, name: rename(m.name) })),
        { name: "rl@30", spec: "llama:./base.gguf+./rl-30.gguf", baseline: false },
      ],
      axes: {
        helpfulness: axis(data.axes.helpfulness, 1120),
        harmlessness: axis(data.axes.harmlessness, 1320),
      },
      rates: [],
      samples: [],
    };
  }

  it("reads RUN@STEP names and gives a run's checkpoints one colour", () => {
    expect(trajectoryOf("rl-cai@50")).toEqual({ run: "rl-cai", step: 50 });
    expect(trajectoryOf("a@b@7")).toEqual({ run: "a@b", step: 7 });
    expect(trajectoryOf("base")).toBeUndefined();
    expect(trajectoryOf("rl@")).toBeUndefined();
    expect(modelColours(["base", "rl@10", "rl@20", "sl", "rl@30"])).toEqual([
      modelColour(0),
      modelColour(1),
      modelColour(1),
      modelColour(2),
      modelColour(1),
    ]);
  });

  it("draws one line through a run's checkpoints, in step order, in the run's colour", async () => {
    const svg = await frontierSvg(trajectoryData());
    const lineGroup = /<g class="mark-line role-mark[^"]*"[^>]*>(.*?)<\/g>/s.exec(svg)?.[1] ?? "";
    const paths = [...lineGroup.matchAll(/<path[^>]*d="([^"]+)"[^>]*stroke="([^"]+)"/g)];
    expect(paths).toHaveLength(1);
    expect(paths[0]?.[2]).toBe(modelColour(1));
    // Three vertices: the line visits rl@10, rl@20, rl@30 (M + 2 L commands).
    expect(paths[0]?.[1]?.match(/[ML]/g)).toHaveLength(3);
    // The baseline, a run of one, has no line; the spec filters the line layer to trajectories.
    const spec = JSON.stringify(frontierSpec(trajectoryData()));
    expect(spec).toContain('"filter":"datum.trajectory"');
  });
});
