import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { InputFileError } from "../../errors/input-file-error.js";
import { LlamaLanguageModel } from "../../models/llama/llama-language-model.js";
import { RunChangedError } from "../../runs/run-changed-error.js";
import { testAdapter, testModel } from "../../test-support/test-models.js";
import { readResponsesFile, writeResponsesFile } from "./responses-file.js";
import { type RespondPrompt, type RespondRunConfig, respondRecords, runRespond } from "./run-respond.js";

const prompts: RespondPrompt[] = Array.from({ length: 6 }, (_, i) => ({
  id: `p-${i}`,
  kind: i % 2 ? "helpful" : "red-team",
  category: `c${i % 3}`,
  split: i === 5 ? "test" : "train",
  prompt:
    i === 3
      ? [
          { role: "user", content: "Hi" },
          { role: "assistant", content: "Hello!" },
          { role: "user", content: "Now tell me a secret." },
        ]
      : [{ role: "user", content: `Prompt number ${i}` }],
}));

describe("the respond stage on the tiny model, with and without an adapter", () => {
  let base: LlamaLanguageModel;
  let adapted: LlamaLanguageModel;
  beforeAll(async () => {
    const file = await testModel();
    base = await LlamaLanguageModel.load(file, { threads: 1, gpu: false });
    adapted = await LlamaLanguageModel.load(file, {
      threads: 1,
      gpu: false,
      adapters: [{ path: await testAdapter(file), scale: 1 }],
    });
  });
  afterAll(async () => {
    await base.close();
    await adapted.close();
  });

  const config: RespondRunConfig = {
    models: ["llama:base.gguf", "llama:base.gguf+lora.gguf"],
    samples: 2,
    seed: 3,
    temperature: 1,
    maxTokens: 12,
  };
  const run = (runDir: string, changes: Partial<RespondRunConfig> = {}) =>
    runRespond({
      runDir,
      prompts,
      models: [base, adapted],
      config: { ...config, ...changes },
      concurrency: 2,
    });

  it("stores every model's samples per prompt, identically across runs, different per model and sample", async () => {
    const [first, second] = [
      await mkdtemp(path.join(os.tmpdir(), "cai-respond-")),
      await mkdtemp(path.join(os.tmpdir(), "cai-respond-")),
    ];
    expect(await run(first)).toMatchObject({ attempted: 6, succeeded: 6, failed: 0, interrupted: false });
    expect((await run(first)).attempted).toBe(0);
    await run(second);
    const rows = respondRecords(first);
    expect(rows.map((r) => r.id)).toEqual(prompts.map((p) => p.id));
    for (const [i, row] of rows.entries()) {
      expect(row).toMatchObject({
        kind: prompts[i]?.kind,
        split: prompts[i]?.split,
        prompt: prompts[i]?.prompt,
      });
      expect(row.responses.map((r) => [r.model, r.sample])).toEqual([
        [config.models[0], 0],
        [config.models[0], 1],
        [config.models[1], 0],
        [config.models[1], 1],
      ]);
      for (const response of row.responses) expect(["stop", "length"]).toContain(response.finishReason);
    }
    expect(respondRecords(second)).toEqual(rows);
    const texts = (model: string, sample: number) =>
      rows.map((row) => row.responses.find((r) => r.model === model && r.sample === sample)?.text);
    expect(texts(config.models[0] as string, 0)).not.toEqual(texts(config.models[1] as string, 0));
    expect(texts(config.models[0] as string, 0)).not.toEqual(texts(config.models[0] as string, 1));
  });

  it("refuses to resume with another config unless restarted", async () => {
    const runDir = await mkdtemp(path.join(os.tmpdir(), "cai-respond-"));
    await run(runDir, { maxTokens: 4 });
    await expect(run(runDir, { maxTokens: 4, samples: 1 })).rejects.toSatisfy((e) =>
      RunChangedError.isInstance(e),
    );
    const restarted = await runRespond({
      runDir,
      prompts: prompts.slice(0, 2),
      models: [base],
      config: { ...config, models: ["llama:base.gguf"], samples: 1, maxTokens: 4 },
      concurrency: 1,
      restart: true,
    });
    expect(restarted.counts.total).toBe(2);
    expect(respondRecords(runDir).every((row) => row.responses.length === 1)).toBe(true);
  });

  it("writes a responses file that reads back as it was written", async () => {
    const runDir = await mkdtemp(path.join(os.tmpdir(), "cai-respond-"));
    await run(runDir, { maxTokens: 4 });
    const file = path.join(runDir, "responses.jsonl");
    const rows = respondRecords(runDir);
    await writeResponsesFile(file, [...rows].reverse());
    expect(await readResponsesFile(file)).toEqual(rows);
    const first = JSON.parse((await readFile(file, "utf8")).split("\n")[0] as string);
    expect(Object.keys(first)).toEqual(["id", "kind", "category", "split", "prompt", "responses"]);
    expect(Object.keys(first.responses[0])).toEqual(["model", "sample", "text", "finishReason"]);
  });
});

describe("readResponsesFile", () => {
  const row = {
    id: "a",
    kind: "helpful",
    category: "x",
    split: "test",
    prompt: [{ role: "user", content: "Hi" }],
    responses: [{ model: "llama:m.gguf", sample: 0, text: "Hello", finishReason: "stop" }],
  };
  const readLines = async (...lines: unknown[]) => {
    const file = path.join(await mkdtemp(path.join(os.tmpdir(), "cai-responses-")), "responses.jsonl");
    await writeFile(file, lines.map((l) => `${JSON.stringify(l)}\n`).join(""));
    return readResponsesFile(file);
  };

  it("names the file, line and field of a bad row", async () => {
    const bad = { ...row, id: "b", responses: [{ ...row.responses[0], finishReason: "eos" }] };
    const error = await readLines(row, bad).catch((e: unknown) => e);
    expect(InputFileError.isInstance(error)).toBe(true);
    expect((error as InputFileError).line).toBe(2);
    expect((error as InputFileError).field).toBe("responses[0].finishReason");
    await expect(readLines(row, row)).rejects.toThrow(/:2 \(id\): duplicate id "a"/);
    await expect(readLines({ ...row, prompt: [{ role: "assistant", content: "x" }] })).rejects.toThrow(
      /:1 \(prompt\): the conversation must end with a user message/,
    );
  });
});
