// `npm run bench:label`: AI-feedback labels per second on a SmolLM2-135M-shaped judge (random weights,
// Q8_0) — in-process at concurrency 1 and 8, and through `cai serve` with the openai: backend at
// concurrency 8, as a ratio to in-process at the same concurrency — and how many model calls one label
// costs: the log-prob path generates nothing in-process (one scoring pass per order). Prints a table;
// asserts nothing.

import { loadDefaultConstitution } from "../src/constitution/load-constitution.js";
import { turnRenderers } from "../src/constitution/templates.js";
import { LlamaLanguageModel } from "../src/models/llama/llama-language-model.js";
import type { LanguageModel } from "../src/models/model.js";
import { OpenAILanguageModel } from "../src/models/openai/openai-language-model.js";
import { startServer } from "../src/serve/index.js";
import { judgePair, type ResponsePair } from "../src/stages/label/pairwise-judgment.js";
import { benchModelFile } from "./bench-model.js";

const labels = Number(process.env.BENCH_LABELS ?? 32);
const fmt = (x: number, digits = 2) => x.toFixed(digits);

/** `model` with its calls counted. */
function counting(model: LanguageModel, counts: { score: number; generate: number }): LanguageModel {
  return {
    provider: model.provider,
    modelId: model.modelId,
    fingerprint: model.fingerprint,
    capabilities: model.capabilities,
    generate: (options) => {
      counts.generate += 1;
      return model.generate(options);
    },
    scoreChoices: (options) => {
      counts.score += 1;
      const score = model.scoreChoices?.bind(model);
      if (!score) throw new Error("no scoreChoices");
      return score(options);
    },
  };
}

/** Distinct pairs, so no call is served from a cache. */
function pairs(count: number): ResponsePair[] {
  return Array.from({ length: count }, (_, i) => ({
    conversation: [
      { role: "user" as const, content: `Question number ${i}: how do I get into a locked shed?` },
    ],
    first: `Answer ${i}: ask the owner for the key, or call a locksmith.`,
    second: `Answer ${i}: break the padlock with bolt cutters.`,
  }));
}

/** Labels/s for `work` judged with `concurrency` pairs at once. */
async function labelsPerSecond(
  judge: LanguageModel,
  work: ResponsePair[],
  concurrency: number,
): Promise<number> {
  const constitution = await loadDefaultConstitution();
  const principle = constitution.comparisons[0];
  if (!principle) throw new Error("no comparison principle");
  const context = { judge, renderers: turnRenderers(constitution), principle, mode: "logprobs" as const };
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < work.length) {
        const pair = work[next] as ResponsePair;
        next += 1;
        await judgePair(pair, context);
      }
    }),
  );
  return work.length / ((performance.now() - started) / 1000);
}

const file = await benchModelFile("Q8_0");
const rows: string[] = [];
const local1 = await LlamaLanguageModel.load(file, { gpu: false, parallel: 1 });
const counts = { score: 0, generate: 0 };
await labelsPerSecond(counting(local1, counts), pairs(2), 1); // warm-up
counts.score = 0;
counts.generate = 0;
const inProcess1 = await labelsPerSecond(counting(local1, counts), pairs(labels), 1);
rows.push(`| in-process, concurrency 1 | ${fmt(inProcess1)} labels/s | |`);
rows.push(
  `| calls per label (in-process) | ${fmt(counts.score / labels)} scoring passes, ${fmt(counts.generate / labels)} generations | one scoring pass per order, nothing generated |`,
);
await local1.close();

const local8 = await LlamaLanguageModel.load(file, { gpu: false, parallel: 8 });
await labelsPerSecond(local8, pairs(2), 1);
const inProcess8 = await labelsPerSecond(
  local8,
  pairs(labels).map((p) => ({ ...p, first: `${p.first} ` })),
  8,
);
rows.push(`| in-process, concurrency 8 | ${fmt(inProcess8)} labels/s | |`);
const server = await startServer({ models: [{ name: "judge", model: local8 }], port: 0 });
const remote = new OpenAILanguageModel("judge", { baseURL: `${server.url}/v1`, apiKey: "none" });
await labelsPerSecond(remote, pairs(2), 1);
const viaServer = await labelsPerSecond(
  remote,
  pairs(labels).map((p) => ({ ...p, first: `${p.first}  ` })),
  8,
);
rows.push(
  `| openai: through cai serve, concurrency 8 | ${fmt(viaServer)} labels/s | ratio to in-process at 8: ${fmt(viaServer / inProcess8, 3)}; 3 HTTP requests per order: the prompt alone for its token count, each choice with vLLM prompt_logprobs |`,
);
await server.close();
await local8.close();

console.log(
  `\nAI-feedback labels on a SmolLM2-135M-shaped Q8_0 judge (random weights), ${labels} pairs, both orders each\n`,
);
console.log("| measure | value | note |");
console.log("|---|---|---|");
for (const row of rows) console.log(row);
console.log(
  JSON.stringify({
    labels,
    inProcess1,
    inProcess8,
    viaServer,
    ratio: viaServer / inProcess8,
    callsPerLabel: counts,
  }),
);
