import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { InputFileError } from "../../errors/input-file-error.js";
import { exampleDemoReportData, exampleOrganismReportData, exampleReportData } from "./example-report.js";
import { type EvalReportData, evalReportSchema, readReportData } from "./report-data.js";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "cai-report-data-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function saved(value: unknown): Promise<string> {
  const file = path.join(dir, "report.json");
  await writeFile(file, JSON.stringify(value, null, 2));
  return file;
}

describe("report data", () => {
  it("reads back a saved report.json, unmeasured numbers (NaN, null in JSON) included", async () => {
    const data = exampleReportData();
    const unmeasured: EvalReportData = {
      ...data,
      rates: data.rates.map((r, i) =>
        i === 0 ? { ...r, overRefusal: { rate: Number.NaN, meanProbability: Number.NaN, n: 0 } } : r,
      ),
    };
    const file = await saved(unmeasured);
    expect(await readFile(file, "utf8")).toContain('"rate": null');
    expect(await readReportData(file)).toEqual(unmeasured);
  });

  it("rejects a report with two baselines, naming the field", async () => {
    const data = exampleReportData();
    const file = await saved({ ...data, models: data.models.map((m) => ({ ...m, baseline: true })) });
    const error = await readReportData(file).catch((e: unknown) => e);
    expect(InputFileError.isInstance(error)).toBe(true);
    expect(String(error)).toMatch(/exactly one model must be the baseline/);
  });

  it("rejects ratings, rates or samples that name a model not in the list", () => {
    const data = exampleReportData();
    const [sample] = data.samples;
    const badSample = { ...data, samples: [{ ...sample!, first: { model: "ghost", response: "hi" } }] };
    expect(evalReportSchema.safeParse(badSample).error?.issues[0]?.message).toMatch(/"ghost"/);
    const badRates = { ...data, rates: data.rates.slice(1) };
    expect(evalReportSchema.safeParse(badRates).error?.issues[0]?.path).toEqual(["rates"]);
  });

  it("reads back a report with a ground-truth judge and extra tables, unmeasured numbers included", async () => {
    const data = exampleOrganismReportData();
    const truth = data.groundTruth!;
    const unmeasured: EvalReportData = {
      ...data,
      groundTruth: {
        ...truth,
        axes: {
          ...truth.axes,
          harmlessness: { ...truth.axes.harmlessness, positionConsistency: Number.NaN },
        },
      },
    };
    const file = await saved(unmeasured);
    const text = await readFile(file, "utf8");
    expect(text).toContain('"positionConsistency": null');
    expect(text).toContain('"judge": "organism:./truth.json"');
    expect(await readReportData(file)).toEqual(unmeasured);
  });

  it("reads back a table marked to lead the report, and refuses a lead that is not a boolean", async () => {
    const data = exampleDemoReportData();
    expect(data.tables?.[0]?.lead).toBe(true);
    expect(await readReportData(await saved(data))).toEqual(data);
    const [table, ...rest] = data.tables!;
    expect(
      evalReportSchema.safeParse({ ...data, tables: [{ ...table!, lead: "yes" }, ...rest] }).success,
    ).toBe(false);
  });

  it("still reads an old report.json without the ground truth and the tables", async () => {
    const old = exampleReportData();
    expect(Object.keys(old)).not.toContain("groundTruth");
    expect(Object.keys(old)).not.toContain("tables");
    const read = await readReportData(await saved(old));
    expect(read).toEqual(old);
    expect(read.groundTruth).toBeUndefined();
    expect(read.tables).toBeUndefined();
  });

  it("rejects a table row whose length differs from the columns, naming the table and the row", () => {
    const data = exampleOrganismReportData();
    const [table] = data.tables!;
    const bad = { ...data, tables: [{ ...table!, rows: [table!.rows[0]!, ["harmlessness", 120]] }] };
    const issue = evalReportSchema.safeParse(bad).error?.issues[0];
    expect(issue?.message).toBe(
      'row 2 of the table "Agreement with the ground truth" has 2 cells, but the table has 4 columns',
    );
    expect(issue?.path).toEqual(["tables", 0, "rows", 1]);
  });

  it("rejects unknown keys, bad cells and ground-truth ratings of unlisted models", () => {
    const data = exampleOrganismReportData();
    const [table] = data.tables!;
    const truth = data.groundTruth!;
    const parse = (value: unknown) => evalReportSchema.safeParse(value);
    expect(parse({ ...data, tables: [{ ...table!, caption: "x" }] }).success).toBe(false);
    expect(parse({ ...data, tables: [{ ...table!, rows: [["a", true, 1, 2]] }] }).success).toBe(false);
    expect(parse({ ...data, groundTruth: { ...truth, answers: 3 } }).success).toBe(false);
    const badTruth = {
      ...data,
      groundTruth: {
        ...truth,
        axes: { ...truth.axes, helpfulness: { ...truth.axes.helpfulness, ratings: [] } },
      },
    };
    expect(parse(badTruth).error?.issues[0]?.path).toEqual(["groundTruth", "axes", "helpfulness", "ratings"]);
  });
});
