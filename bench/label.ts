// `npm run bench:label`: AI-feedback labels per second on a SmolLM2-135M-shaped judge (random weights,
// Q8_0) at concurrency 1 and 8 — in-process, and through `cai serve` with the openai: backend over the
// same loaded model — as a ratio to in-process at the same concurrency, with the model calls (in-process)
// and HTTP requests (through the server) one label costs. The two run in alternating rounds, so a busy
// machine slows both alike. `BENCH_LABELS` pairs per measure (default 32; at least one per concurrent slot
// in each round), `BENCH_ROUNDS` rounds (default 8); the ratio is the median of the rounds'. Prints a table; asserts nothing.

import { loadDefaultConstitution } from "../src/constitution/load-constitution.js";
import { turnRenderers } from "../src/constitution/templates.js";
import { LlamaLanguageModel } from "../src/models/llama/llama-language-model.js";
import type { LanguageModel } from "../src/models/model.js";
import { OpenAILanguageModel } from "../src/models/openai/openai-language-model.js";
import { startServer } from "../src/serve/index.js";
import { judgePair, type ResponsePair } from "../src/stages/label/pairwise-judgment.js";
import { benchModelFile } from "./bench-model.js";

const labels = Number(process.env.BENCH_LABELS ?? 32);
const rounds = Number(process.env.BENCH_ROUNDS ?? 8);
const fmt = (x: number, digits = 2) => x.toFixed(digits);
const median = (xs: readonly number[]) => {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
};

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

/** HTTP requests made by this process, by path (the openai: backend's, counted at `fetch`). */
const requests = new Map<string, number>();
const originalFetch = globalThis.fetch;
globalThis.fetch = (input, init) => {
  const url = new URL(input instanceof Request ? input.url : String(input));
  requests.set(url.pathname, (requests.get(url.pathname) ?? 0) + 1);
  return originalFetch(input, init);
};

/** Distinct pairs (`tag` keeps one measurement's prompts from another's), so no call is served from a cache. */
function pairs(count: number, tag: string): ResponsePair[] {
  return Array.from({ length: count }, (_, i) => ({
    conversation: [
      { role: "user" as const, content: `Question number ${i} (${tag}): how do I get into a locked shed?` },
    ],
    first: `Answer ${i}: ask the owner for the key, or call a locksmith.`,
    second: `Answer ${i}: break the padlock with bolt cutters.`,
  }));
}

/** Seconds to judge `work` with `concurrency` pairs at once. */
async function secondsToLabel(
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
  return (performance.now() - started) / 1000;
}

const file = await benchModelFile("Q8_0");
const rows: string[] = [];
const results: Record<string, number> = {};
for (const concurrency of [1, 8]) {
  // At least one pair per concurrent slot in every round.
  const perRound = Math.max(concurrency, Math.round(labels / rounds));
  const model = await LlamaLanguageModel.load(file, { gpu: false, parallel: concurrency });
  const server = await startServer({ models: [{ name: "judge", model }], port: 0 });
  const remote = new OpenAILanguageModel("judge", { baseURL: `${server.url}/v1`, apiKey: "none" });
  const counts = { score: 0, generate: 0 };
  const local = counting(model, counts);
  await secondsToLabel(model, pairs(2, `warm-${concurrency}`), 1);
  await secondsToLabel(remote, pairs(2, `warm-remote-${concurrency}`), 1);
  requests.clear();
  let localSeconds = 0;
  let remoteSeconds = 0;
  const roundRatios: number[] = [];
  for (let round = 0; round < rounds; round += 1) {
    const localWork = pairs(perRound, `local-${concurrency}-${round}`);
    const remoteWork = pairs(perRound, `remote-${concurrency}-${round}`);
    // ABBA: which goes first alternates, so a load that rises or falls through the run favours neither.
    const [first, second] =
      round % 2 === 0
        ? [
            await secondsToLabel(local, localWork, concurrency),
            await secondsToLabel(remote, remoteWork, concurrency),
          ]
        : [
            await secondsToLabel(remote, remoteWork, concurrency),
            await secondsToLabel(local, localWork, concurrency),
          ];
    const [l, r] = round % 2 === 0 ? [first, second] : [second, first];
    localSeconds += l;
    remoteSeconds += r;
    roundRatios.push(l / r);
  }
  const judged = perRound * rounds;
  const inProcess = judged / localSeconds;
  const viaServer = judged / remoteSeconds;
  // Each round's ratio compares two runs minutes apart at most: their median resists a busy machine.
  const ratio = median(roundRatios);
  rows.push(`| in-process, concurrency ${concurrency} | ${fmt(inProcess)} labels/s | |`);
  if (concurrency === 1)
    rows.push(
      `| calls per label (in-process) | ${fmt(counts.score / judged)} scoring passes, ${fmt(counts.generate / judged)} generations | one scoring pass per order, nothing generated |`,
    );
  const perLabel = [...requests.entries()].map(([path, n]) => `${fmt(n / judged, 1)} ${path}`).join(", ");
  rows.push(
    `| openai: through cai serve, concurrency ${concurrency} | ${fmt(viaServer)} labels/s | ratio to in-process: ${fmt(ratio, 3)} (median of rounds: ${roundRatios.map((x) => fmt(x)).join(", ")}); HTTP requests per label: ${perLabel} |`,
  );
  results[`inProcess${concurrency}`] = inProcess;
  results[`viaServer${concurrency}`] = viaServer;
  results[`ratio${concurrency}`] = ratio;
  await server.close();
  await model.close();
}

console.log(
  `\nAI-feedback labels on a SmolLM2-135M-shaped Q8_0 judge (random weights), ${rounds} alternating rounds of at least ${labels} pairs per measure in all, both orders each\n`,
);
console.log("| measure | value | note |");
console.log("|---|---|---|");
for (const row of rows) console.log(row);
console.log(JSON.stringify({ rounds, ...results }));
