import { mkdtemp } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadDefaultConstitution } from "../../constitution/load-constitution.js";
import { samplePrinciple } from "../../constitution/sampling.js";
import { turnRenderers } from "../../constitution/templates.js";
import { loadBuiltinPromptSet } from "../../data/builtin-prompt-sets.js";
import { readRevisedRecords } from "../../export/read-run.js";
import { revisionJsonl } from "../../export/revision-datasets.js";
import { LlamaLanguageModel } from "../../models/llama/llama-language-model.js";
import { OpenAILanguageModel } from "../../models/openai/openai-language-model.js";
import { type RunningServer, startServer } from "../../serve/index.js";
import { testModel } from "../../test-support/test-models.js";
import { runRevise } from "./run-revise.js";

describe("cai revise through cai serve and the openai: backend", () => {
  let llama: LlamaLanguageModel;
  let server: RunningServer;
  beforeAll(async () => {
    llama = await LlamaLanguageModel.load(await testModel(), {
      threads: 1,
      gpu: false,
      parallel: 4,
      contextSize: 8192,
    });
    server = await startServer({ models: [{ name: "tiny", model: llama }], port: 0 });
  });
  afterAll(async () => {
    await server.close();
    await llama.close();
  });

  it("revises built-in red-team prompts with the default constitution and gives the same traces as in-process", async () => {
    const constitution = await loadDefaultConstitution();
    const fewShot = {
      ...constitution,
      examples: { ...constitution.examples, critique: constitution.examples.critique.slice(0, 1) },
    };
    const prompts = (await loadBuiltinPromptSet("red-team")).slice(0, 6);
    const remote = new OpenAILanguageModel("tiny", { baseURL: `${server.url}/v1`, apiKey: "none" });
    const run = async (model: OpenAILanguageModel | LlamaLanguageModel) => {
      const runDir = await mkdtemp(path.join(os.tmpdir(), "cai-revise-http-"));
      const outcome = await runRevise({
        runDir,
        prompts,
        policy: model,
        critic: model,
        constitution: fewShot,
        templates: turnRenderers(fewShot),
        samplePrinciple,
        constitutionHash: "h",
        concurrency: 1,
        config: {
          policy: "tiny",
          critic: "tiny",
          rounds: 2,
          seed: 3,
          maxTokens: 16,
          temperature: 1,
          earlyStop: false,
        },
      });
      expect(outcome).toMatchObject({ succeeded: 6, failed: 0 });
      return readRevisedRecords(runDir);
    };
    const viaHttp = await run(remote);
    const inProcess = await run(llama);
    expect(viaHttp.map((r) => r.trace.revision)).toEqual(inProcess.map((r) => r.trace.revision));
    expect(viaHttp.map((r) => r.trace.draft)).toEqual(inProcess.map((r) => r.trace.draft));
    for (const format of ["sft", "trace"] as const) expect(revisionJsonl(viaHttp, format).rows).toBe(6);
  });
});
