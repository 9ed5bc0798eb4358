// `npm run bench:models`: decode speed of raw node-llama-cpp vs cai's `llama:` backend and `openai:`
// through `cai serve`, on SmolLM2-135M-shaped models (F16 and Q8_0), measured side by side in one run.
// Prints ratios against the targets of the foundation issue; never asserts anything.

import path from "node:path";
import { getLlama, type LlamaModel, type Token } from "node-llama-cpp";
import { LlamaLanguageModel } from "../src/models/llama/llama-language-model.js";
import { chooseThreads } from "../src/models/llama/thread-choice.js";
import type { LanguageModel } from "../src/models/model.js";
import { OpenAILanguageModel } from "../src/models/openai/openai-language-model.js";
import { startServer } from "../src/serve/index.js";
import { benchModelFile } from "./bench-model.js";

const decodeTokens = Number(process.env.BENCH_TOKENS ?? 64);
const repeats = Number(process.env.BENCH_REPEATS ?? 3);
const types = (process.env.BENCH_TYPES ?? "F16,Q8_0").split(",") as Array<"F16" | "Q8_0">;
const concurrencies = [1, 4, 8];
const userPrompt = "Write a short story about a lighthouse keeper who finds a message in a bottle.";

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
const fmt = (x: number, digits = 1) => x.toFixed(digits);
const rows: string[][] = [];
const row = (...cells: Array<string | number>) => {
  rows.push(cells.map(String));
  console.error(cells.join(" | "));
};

/** One stream's decode: tokens after the first, and when the first and last arrived. */
interface Stream {
  tokens: number;
  first: number;
  last: number;
}

/** Aggregate decode tokens/s of concurrent streams: prefill (before each first token) is excluded. */
function decodeRate(streams: Stream[]): number {
  const first = Math.min(...streams.map((s) => s.first));
  const last = Math.max(...streams.map((s) => s.last));
  return streams.reduce((a, s) => a + s.tokens, 0) / ((last - first) / 1000);
}

/** Raw node-llama-cpp: `parallel` sequences each decoding greedily from the chat prompt. */
async function rawDecode(
  model: LlamaModel,
  prompt: Token[],
  threads: number,
  parallel: number,
): Promise<number> {
  const context = await model.createContext({
    contextSize: 1024,
    sequences: parallel,
    threads,
    flashAttention: false,
  });
  try {
    const sequences = Array.from({ length: parallel }, () => context.getSequence());
    const streams = await Promise.all(
      sequences.map(async (sequence) => {
        const stream: Stream = { tokens: -1, first: 0, last: 0 };
        for await (const token of sequence.evaluate(prompt, { temperature: 0 })) {
          if (model.isEogToken(token)) break;
          stream.last = performance.now();
          if (stream.tokens < 0) stream.first = stream.last;
          stream.tokens += 1;
          if (stream.tokens + 1 >= decodeTokens) break;
        }
        return stream;
      }),
    );
    return decodeRate(streams);
  } finally {
    await context.dispose();
  }
}

/** A cai model: `parallel` concurrent greedy generations, timed by their streamed text. */
async function caiDecode(model: LanguageModel, parallel: number): Promise<number> {
  const streams = await Promise.all(
    Array.from({ length: parallel }, async () => {
      let first = 0;
      const result = await model.generate({
        messages: [{ role: "user", content: userPrompt }],
        maxTokens: decodeTokens,
        temperature: 0,
        onText: () => {
          if (first === 0) first = performance.now();
        },
      });
      return { tokens: result.usage.outputTokens - 1, first, last: performance.now() };
    }),
  );
  return decodeRate(streams);
}

async function benchType(type: "F16" | "Q8_0"): Promise<void> {
  const file = await benchModelFile(type);
  const llama = await getLlama({ gpu: false });
  let started = performance.now();
  const raw = await llama.loadModel({ modelPath: file });
  const rawLoad = (performance.now() - started) / 1000;

  // Threads: the backend's default choice vs the best count measured here.
  const fileKey = `${path.resolve(file)}#bench`;
  started = performance.now();
  const chosen = (await chooseThreads(llama, raw, fileKey)).threads;
  const chooseSeconds = (performance.now() - started) / 1000;
  // Batched (parallel sequences of one context) is what raw node-llama-cpp does; the default,
  // deterministic mode (a context per call, two tokens per decoding step) is measured beside it.
  const backend = await LlamaLanguageModel.load(file, {
    threads: chosen,
    gpu: false,
    parallel: 8,
    contextSize: 1024,
    deterministic: false,
  });
  const deterministic = await LlamaLanguageModel.load(file, {
    threads: chosen,
    gpu: false,
    parallel: 8,
    contextSize: 1024,
  });
  const prompt = backend.prompts.chatTokens([{ role: "user", content: userPrompt }]);
  const byThreads: Record<number, number[]> = {};
  for (let r = 0; r < repeats; r += 1) {
    for (let t = 1; t <= llama.cpuMathCores; t += 1) {
      byThreads[t] = [...(byThreads[t] ?? []), await rawDecode(raw, prompt, t, 1)];
    }
  }
  const bestThreads = Math.max(...Object.values(byThreads).map(median));
  const chosenSpeed = median(byThreads[chosen] ?? [0]);
  row(
    type,
    "threads",
    `default ${chosen} (chosen in ${fmt(chooseSeconds, 2)} s)`,
    Object.entries(byThreads)
      .map(([t, xs]) => `T=${t}: ${fmt(median(xs))} tok/s`)
      .join(", "),
    `ratio ${fmt(chosenSpeed / bestThreads, 3)}`,
    "target ≥ 0.95",
  );

  // Single stream: raw vs llama: backend vs openai: through cai serve, interleaved.
  const server = await startServer({ models: [{ name: "bench", model: backend }], port: 0 });
  const remote = new OpenAILanguageModel("bench", { baseURL: `${server.url}/v1`, apiKey: "none" });
  const single = {
    raw: [] as number[],
    llama: [] as number[],
    openai: [] as number[],
    deterministic: [] as number[],
  };
  for (let r = 0; r < repeats; r += 1) {
    single.raw.push(await rawDecode(raw, prompt, chosen, 1));
    single.llama.push(await caiDecode(backend, 1));
    single.openai.push(await caiDecode(remote, 1));
    single.deterministic.push(await caiDecode(deterministic, 1));
  }
  const rawSingle = median(single.raw);
  row(
    type,
    "decode, 1 stream",
    `raw ${fmt(rawSingle)} tok/s`,
    `llama: ${fmt(median(single.llama))} tok/s`,
    `ratio ${fmt(median(single.llama) / rawSingle, 3)}`,
    "target ≥ 0.97",
  );
  row(
    type,
    "decode, 1 stream",
    `raw ${fmt(rawSingle)} tok/s`,
    `llama: deterministic (default) ${fmt(median(single.deterministic))} tok/s`,
    `ratio ${fmt(median(single.deterministic) / rawSingle, 3)}`,
    "reported",
  );
  row(
    type,
    "decode, 1 stream",
    `raw ${fmt(rawSingle)} tok/s`,
    `openai: via cai serve ${fmt(median(single.openai))} tok/s`,
    `ratio ${fmt(median(single.openai) / rawSingle, 3)}`,
    "target ≥ 0.90",
  );
  await server.close();

  // Concurrency: aggregate tokens/s at 1, 4 and 8 requests vs raw with as many parallel sequences.
  for (const parallel of concurrencies) {
    const rawRuns: number[] = [];
    const caiRuns: number[] = [];
    const deterministicRuns: number[] = [];
    for (let r = 0; r < repeats; r += 1) {
      rawRuns.push(await rawDecode(raw, prompt, chosen, parallel));
      caiRuns.push(await caiDecode(backend, parallel));
      deterministicRuns.push(await caiDecode(deterministic, parallel));
    }
    row(
      type,
      `aggregate, ${parallel} concurrent`,
      `raw ${fmt(median(rawRuns))} tok/s`,
      `llama: ${fmt(median(caiRuns))} tok/s`,
      `ratio ${fmt(median(caiRuns) / median(rawRuns), 3)}`,
      "target ≥ 0.95",
    );
    row(
      type,
      `aggregate, ${parallel} concurrent`,
      `raw ${fmt(median(rawRuns))} tok/s`,
      `llama: deterministic (default) ${fmt(median(deterministicRuns))} tok/s`,
      `ratio ${fmt(median(deterministicRuns) / median(rawRuns), 3)}`,
      "reported",
    );
  }
  // A cold load of the backend (its weights not loaded yet in this process; thread count remembered).
  await backend.close();
  await deterministic.close();
  started = performance.now();
  const again = await LlamaLanguageModel.load(file, { gpu: false, contextSize: 1024 });
  const backendLoad = (performance.now() - started) / 1000;
  await again.close();
  row(
    type,
    "load",
    `raw ${fmt(rawLoad, 2)} s`,
    `llama: ${fmt(backendLoad, 2)} s (incl. context, 4 × 1024 tokens)`,
    "",
    "",
  );
  await raw.dispose();
}

for (const type of types) await benchType(type);
row("all", "peak RSS", `${fmt(process.resourceUsage().maxRSS / 1024, 0)} MB`, "", "", "");
console.log(
  `\nSmolLM2-135M-shaped models, random weights, ${decodeTokens} greedy tokens, median of ${repeats}\n`,
);
console.log("| file | measure | baseline | cai | ratio | target |");
console.log("|---|---|---|---|---|---|");
for (const cells of rows) console.log(`| ${cells.join(" | ")} |`);
