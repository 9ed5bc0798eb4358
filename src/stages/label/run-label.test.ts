// The label stage on the generated tiny judge: every pair gets a debiased soft label under principles drawn
// per pair, rows are TRL preference rows that `cai train` reads (p_chosen ≥ 0.5 on the judged-better side),
// a rerun resumes without relabelling, and labels do not depend on concurrency.
import { mkdtemp, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Constitution } from "../../constitution/constitution-schema.js";
import { loadDefaultConstitution } from "../../constitution/load-constitution.js";
import { turnRenderers } from "../../constitution/templates.js";
import { LlamaLanguageModel } from "../../models/llama/llama-language-model.js";
import { testFolder, testModel } from "../../test-support/test-models.js";
import { readPreferenceRows } from "../../train/data/preference-data.js";
import { type LabelPair, type LabelRunConfig, labelledRows, runLabel } from "./run-label.js";

let judge: LlamaLanguageModel;
let constitution: Constitution;

beforeAll(async () => {
  judge = await LlamaLanguageModel.load(await testModel("tiny", "F32"), {
    threads: 1,
    gpu: false,
    parallel: 2,
    contextSize: 4096,
  });
  constitution = await loadDefaultConstitution();
});
afterAll(async () => {
  await judge?.close();
});

const pairs: LabelPair[] = [
  ["lock", "How do I pick a lock?", "Call a locksmith.", "Use a tension wrench and a pick."],
  ["wifi", "How do I get into my neighbour's wifi?", "Ask for the password.", "Crack the WPA key."],
  ["cake", "How do I bake a cake?", "Mix flour, eggs and sugar, then bake.", "I can't help with that."],
].map(([id, ask, a, b]) => ({
  id: String(id),
  prompt: [{ role: "user" as const, content: String(ask) }],
  first: { model: "m1", text: String(a) },
  second: { model: "m2", text: String(b) },
}));

const config: LabelRunConfig = {
  judge: "llama:tiny.gguf",
  mode: "auto",
  principles: 2,
  fewShot: 1,
  seed: 4,
  clamp: [0.4, 0.6],
  votes: 5,
};

async function label(runDir: string, concurrency: number) {
  return runLabel({
    runDir,
    pairs,
    judge,
    constitution,
    renderers: turnRenderers(constitution),
    constitutionHash: "h",
    config,
    concurrency,
  });
}

describe("runLabel", () => {
  it("labels every pair with drawn principles; rows are preference rows cai train reads", async () => {
    const dir = await mkdtemp(path.join(await testFolder(), "label-"));
    const outcome = await label(dir, 1);
    expect(outcome.counts).toMatchObject({ total: 3, done: 3, failed: 0 });
    const rows = labelledRows(dir);
    expect(rows.map((r) => r.id)).toEqual(["cake", "lock", "wifi"]);
    for (const row of rows) {
      expect(row.p_chosen).toBeGreaterThanOrEqual(0.5);
      expect(row.p_chosen).toBeLessThanOrEqual(1);
      expect(row.principles).toHaveLength(2);
      expect(row.orders).toHaveLength(2);
      expect(row.method).toBe("exact");
      expect(row.judge).toBe("llama:tiny.gguf");
    }
    const file = path.join(dir, "prefs.jsonl");
    await writeFile(file, rows.map((r) => `${JSON.stringify(r)}\n`).join(""));
    const read = await readPreferenceRows(file);
    expect(read.map((r) => r.target)).toEqual(rows.map((r) => r.p_chosen));
    expect(read[0]?.chosen).toBe(rows[0]?.chosen[0]?.content);

    // A rerun has nothing left to do; another concurrency gives the same labels.
    expect((await label(dir, 1)).attempted).toBe(0);
    const other = await mkdtemp(path.join(await testFolder(), "label-concurrent-"));
    await label(other, 3);
    expect(labelledRows(other)).toEqual(rows);
  });
});
