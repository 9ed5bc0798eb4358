import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { InputFileError } from "../../errors/input-file-error.js";
import { exampleReportData } from "./example-report.js";
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
});
