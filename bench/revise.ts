// `npm run bench:revise`: throughput of the revision stage through `cai serve` on a SmolLM2-135M-shaped
// model at concurrency 1, 8 and 32, against the server's own throughput for the same requests replayed
// without the pipeline — the orchestration must not be the bottleneck. Prints a table; asserts nothing.

import { mkdtemp } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { constitutionHash, loadDefaultConstitution } from "../src/constitution/load-constitution.js";
import { samplePrinciple } from "../src/constitution/sampling.js";
import { turnRenderers } from "../src/constitution/templates.js";
import { loadBuiltinPromptSet } from "../src/data/builtin-prompt-sets.js";
import { readRevisedRecords } from "../src/export/read-run.js";
import { LlamaLanguageModel } from "../src/models/llama/llama-language-model.js";
import type { GenerateOptions, LanguageModel } from "../src/models/model.js";
import { OpenAILanguageModel } from "../src/models/openai/openai-language-model.js";
import { startServer } from "../src/serve/index.js";
import { runRevise } from "../src/stages/revise/run-revise.js";
import { benchModelFile } from "./bench-model.js";

const concurrencies = (process.env.BENCH_CONCURRENCY ?? "1,8,32").split(",").map(Number);
const maxTokens = Number(process.env.BENCH_TOKENS ?? 32);
const fmt = (x: number, digits = 2) => x.toFixed(digits);

/** Records every generate call that passes through, so the same calls can be replayed directly. */
function recording(model: LanguageModel, calls: GenerateOptions[]): LanguageModel {
  return {
    ...model,
    provider: model.provider,
    modelId: model.modelId,
    fingerprint: model.fingerprint,
    capabilities: model.capabilities,
    generate: (options) => {
      calls.push(options);
      return model.generate(options);
    },
  };
}

/**
 * Groups recorded calls into each prompt's chain (draft, then its critiques and revisions), in order:
 * a draft is the conversation alone, and every later call of the prompt contains that conversation.
 */
function chains(calls: GenerateOptions[]): GenerateOptions[][] {
  const byPrompt: Array<{ prompt: string[]; calls: GenerateOptions[] }> = [];
  const contains = (messages: string[], prompt: string[]) =>
    messages.some((_, k) => prompt.every((m, i) => messages[k + i] === m));
  for (const call of calls) {
    const messages = call.messages.map((m) => JSON.stringify(m));
    const chain = byPrompt.find((c) => contains(messages, c.prompt));
    if (chain) chain.calls.push(call);
    else byPrompt.push({ prompt: messages, calls: [call] });
  }
  return byPrompt.map((c) => c.calls);
}

/**
 * Replays each prompt's chain of calls, one call after another, with `concurrency` chains at once —
 * the pipeline's request pattern without the pipeline. Generated tokens/s.
 */
async function replay(model: LanguageModel, work: GenerateOptions[][], concurrency: number): Promise<number> {
  console.error(`replaying ${work.length} chains of ${work.map((c) => c.length).join("/")} calls`);
  let next = 0;
  let tokens = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < work.length) {
        const chain = work[next] as GenerateOptions[];
        next += 1;
        for (const call of chain) {
          // Await first: `tokens += await …` would read `tokens` before the await and lose other workers' counts.
          const result = await model.generate(call);
          tokens += result.usage.outputTokens;
        }
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  console.error(`replay: ${tokens} tokens in ${seconds.toFixed(1)} s`);
  return tokens / seconds;
}

const file = await benchModelFile("Q8_0");
const constitution = await loadDefaultConstitution();
const fewShot = {
  ...constitution,
  examples: { ...constitution.examples, critique: constitution.examples.critique.slice(0, 2) },
};
const prompts = (await loadBuiltinPromptSet("red-team")).map((p) => ({ ...p }));
const rows: string[] = [];
for (const concurrency of concurrencies) {
  const backend = await LlamaLanguageModel.load(file, {
    gpu: false,
    parallel: concurrency,
    contextSize: 4096,
  });
  const server = await startServer({ models: [{ name: "bench", model: backend }], port: 0 });
  const remote = new OpenAILanguageModel("bench", { baseURL: `${server.url}/v1`, apiKey: "none" });
  // Warm up (weights paged in and repacked, threads started) so neither measurement pays for it.
  await remote.generate({
    messages: [{ role: "user", content: "Hello there." }],
    maxTokens: 8,
    temperature: 0,
  });
  const calls: GenerateOptions[] = [];
  const recorded = recording(remote, calls);
  const count = Math.max(4, concurrency);
  const runDir = await mkdtemp(path.join(os.tmpdir(), "cai-bench-revise-"));
  const started = performance.now();
  const outcome = await runRevise({
    runDir,
    prompts: prompts.slice(0, count),
    policy: recorded,
    critic: recorded,
    constitution: fewShot,
    templates: turnRenderers(fewShot),
    samplePrinciple,
    constitutionHash: constitutionHash(fewShot),
    concurrency,
    config: {
      policy: "bench",
      critic: "bench",
      rounds: 1,
      seed: 0,
      maxTokens,
      temperature: 1,
      earlyStop: false,
    },
  });
  const seconds = (performance.now() - started) / 1000;
  const pipelineTokens = readRevisedRecords(runDir).reduce((sum, r) => sum + r.trace.usage.outputTokens, 0);
  const pipelineRate = pipelineTokens / seconds;
  console.error(
    `pipeline: ${outcome.succeeded} records, ${calls.length} calls, ${pipelineTokens} tokens in ${seconds.toFixed(1)} s`,
  );
  const rawRate = await replay(remote, chains(calls), concurrency);
  const line = `| ${concurrency} | ${fmt(outcome.succeeded / seconds)} | ${fmt(pipelineRate, 1)} | ${fmt(rawRate, 1)} | ${fmt(pipelineRate / rawRate, 3)} |`;
  rows.push(line);
  console.error(line);
  await server.close();
  await backend.close();
}
console.log(
  `\nRevision stage through cai serve, SmolLM2-135M-shaped Q8_0 model, 1 round, ${maxTokens} max tokens, 2 few-shot examples\n`,
);
console.log(
  "| concurrency | records/s | pipeline generated tok/s | server tok/s, same calls replayed | ratio (target ≥ 0.9) |",
);
console.log("|---|---|---|---|---|");
for (const row of rows) console.log(row);
