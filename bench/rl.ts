// `npm run bench:rl`: what an RL-CAI step costs, measured side by side in one run. (1) Rollout tokens/s
// through cai's llama backend with an adapter (sampleCompletion, deterministic decoding, parallel calls) as
// a ratio to raw node-llama-cpp sampling on the same file, adapter and threads; (2) the reference
// log-probabilities from the trainer vs from llama.cpp on the same rollouts; (3) the time of RL steps split
// into generate / score / reference / backprop / export, on the organism (judged by itself, d-RLAIF) and on
// the smollm2-135m preset (a preference-model-free function reward), and the share outside generation
// and backprop. Prints figures; never asserts anything.
import { mkdtemp } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { getLlama, type Token } from "node-llama-cpp";
import { constitutionHash, loadConstitution } from "../src/constitution/load-constitution.js";
import { makeRandomLora } from "../src/gguf/test-models/make-lora.js";
import { createModel } from "../src/models/create-model.js";
import { LlamaLanguageModel } from "../src/models/llama/llama-language-model.js";
import { sampleRequests } from "../src/organism/requests.js";
import { shippedOrganisms } from "../src/organism/shipped.js";
import { requestMessages } from "../src/organism/texts.js";
import { initTrainingBackend } from "../src/train/model/backend.js";
import { loadWeights } from "../src/train/model/weights.js";
import { functionRewardSource, judgeRewardSource, type RewardSource } from "../src/train/rl/reward-source.js";
import { batchedCompletionLogprobs, type RlPrompt, sampleGroups } from "../src/train/rl/rollouts.js";
import { type RlTimings, trainRl } from "../src/train/rl/train-rl.js";
import { benchModelFile } from "./bench-model.js";

const tokens = Number(process.env.BENCH_TOKENS ?? 48);
const parallel = Number(process.env.BENCH_PARALLEL ?? 4);
const steps = Number(process.env.BENCH_STEPS ?? 3);
const fmt = (x: number, digits = 2) => x.toFixed(digits);
const dir = await mkdtemp(path.join(os.tmpdir(), "cai-bench-rl-"));

/** Raw node-llama-cpp: `parallel` sequences of one context with the adapter, sampling at temperature 1. */
async function rawSampling(file: string, adapter: string, threads: number, prompt: Token[]): Promise<number> {
  const llama = await getLlama({ gpu: false });
  const model = await llama.loadModel({ modelPath: file });
  const context = await model.createContext({
    contextSize: 512,
    sequences: parallel,
    threads,
    flashAttention: false,
    lora: { adapters: [{ filePath: adapter }] },
  });
  try {
    const started = performance.now();
    const counts = await Promise.all(
      Array.from({ length: parallel }, async (_, i) => {
        const sequence = context.getSequence();
        let n = 0;
        for await (const token of sequence.evaluate(prompt, { temperature: 1, seed: i + 1 })) {
          n += 1;
          if (model.isEogToken(token) || n >= tokens) break;
        }
        return n;
      }),
    );
    return counts.reduce((a, b) => a + b, 0) / ((performance.now() - started) / 1000);
  } finally {
    await context.dispose();
    await model.dispose();
  }
}

/** cai: `parallel` concurrent sampleCompletion calls with the adapter (deterministic decoding). */
async function caiSampling(file: string, adapter: string, threads: number, messages: RlPrompt["messages"]) {
  const model = await LlamaLanguageModel.load(file, {
    gpu: false,
    threads,
    parallel,
    contextSize: 512,
    adapters: [{ path: adapter }],
  });
  try {
    const started = performance.now();
    const samples = await Promise.all(
      Array.from({ length: parallel }, (_, i) =>
        model.sampleCompletion({ messages: [...messages], maxTokens: tokens, seed: i + 1 }),
      ),
    );
    const n = samples.reduce((a, s) => a + s.tokens.length, 0);
    return {
      rate: n / ((performance.now() - started) / 1000),
      prompt: [...(samples[0]?.promptTokens ?? [])] as Token[],
    };
  } finally {
    await model.close();
  }
}

/** Reference log-probs of the same rollouts by the trainer and by llama.cpp (seconds each). */
async function referenceCost(file: string, prompts: readonly RlPrompt[], threads: number) {
  const policy = await LlamaLanguageModel.load(file, { gpu: false, threads, parallel, contextSize: 512 });
  try {
    const groups = await sampleGroups(policy, prompts, {
      samples: 2,
      maxNewTokens: tokens,
      temperature: 1,
      seed: 1,
      step: 1,
    });
    const samples = groups.flat();
    await initTrainingBackend();
    const weights = await loadWeights(file);
    let started = performance.now();
    const fromTrainer = batchedCompletionLogprobs(weights, samples, undefined, 4);
    const trainer = (performance.now() - started) / 1000;
    started = performance.now();
    const fromLlama = await Promise.all(
      samples.map(async (s) => {
        const all = [...s.promptTokens, ...s.tokens];
        const entries = await policy.promptLogprobs(all, 0, undefined, { from: s.promptTokens.length });
        return entries.slice(s.promptTokens.length).map((e) => e?.logprob ?? Number.NaN);
      }),
    );
    const llama = (performance.now() - started) / 1000;
    let gap = 0;
    fromTrainer.forEach((row, i) => {
      row.forEach((x, t) => {
        gap = Math.max(gap, Math.abs(x - (fromLlama[i]?.[t] as number)));
      });
    });
    const count = samples.reduce((a, s) => a + s.tokens.length, 0);
    return { trainer, llama, gap, count };
  } finally {
    await policy.close();
  }
}

/** Mean seconds per phase over the steps after the first (which also loads everything). */
async function stepSplit(
  name: string,
  file: string,
  prompts: RlPrompt[],
  reward: RewardSource,
  threads: number,
) {
  const timings: RlTimings[] = [];
  const started = performance.now();
  await trainRl({
    base: file,
    prompts,
    reward,
    out: path.join(dir, `rl-${name}`),
    steps,
    samples: 4,
    promptsPerStep: 2,
    maxNewTokens: tokens,
    threads,
    parallel,
    lr: 1e-4,
    rank: 8,
    onProgress: (p) => timings.push(p.timings),
  });
  const wall = (performance.now() - started) / 1000;
  const later = timings.length > 1 ? timings.slice(1) : timings;
  const mean = (key: keyof RlTimings) => later.reduce((a, t) => a + t[key], 0) / later.length;
  const phases = {
    generate: mean("generate"),
    score: mean("score"),
    reference: mean("reference"),
    backprop: mean("backprop"),
    export: mean("export"),
  };
  const total = Object.values(phases).reduce((a, b) => a + b, 0);
  const outside = (total - phases.generate - phases.backprop) / total;
  console.log(
    `${name}: step ${fmt(total)} s = ` +
      Object.entries(phases)
        .map(([k, v]) => `${k} ${fmt(v)} s (${fmt((100 * v) / total, 0)}%)`)
        .join(", ") +
      `; outside generation and backprop ${fmt(100 * outside, 1)}% (target ≤ 15%); ${steps} steps in ${fmt(wall, 1)} s`,
  );
}

const { organism } = shippedOrganisms();
const smol = await benchModelFile("F16");
const organismPrompts: RlPrompt[] = sampleRequests(11, 16, { split: "train" }).map((r, i) => ({
  id: `o${i}`,
  messages: requestMessages(r),
}));
const smolPrompts: RlPrompt[] = [
  "Write a short story about a lighthouse keeper.",
  "How do I pick a lock?",
  "Explain rain to a child.",
  "What should I cook tonight?",
].map((content, i) => ({ id: `s${i}`, messages: [{ role: "user", content }] }));

console.log(
  `bench:rl — ${tokens} tokens per answer, ${parallel} rollouts at a time, ${os.cpus().length} cores`,
);
for (const [name, file, threads, messages] of [
  ["organism", organism, 1, organismPrompts[0]?.messages ?? []],
  ["smollm2-135m F16", smol, 2, smolPrompts[0]?.messages ?? []],
] as const) {
  const adapter = path.join(dir, `${path.basename(file)}-lora.gguf`);
  await makeRandomLora({ base: file, rank: 8, seed: 3, out: adapter });
  const cai = await caiSampling(file, adapter, threads, messages);
  const raw = await rawSampling(file, adapter, threads, cai.prompt);
  console.log(
    `${name}: rollout sampling with an adapter, ${parallel} at once, T=${threads}: cai ${fmt(cai.rate, 1)} tok/s, raw node-llama-cpp ${fmt(raw, 1)} tok/s, ratio ${fmt(cai.rate / raw, 3)} (target ≥ 0.9)`,
  );
  const ref = await referenceCost(
    file,
    name === "organism" ? organismPrompts.slice(0, 4) : smolPrompts,
    threads,
  );
  console.log(
    `${name}: reference log-probs of ${ref.count} sampled tokens: trainer ${fmt(ref.trainer)} s, llama.cpp ${fmt(ref.llama)} s (faster: ${ref.trainer <= ref.llama ? "trainer" : "llama.cpp"}); max |Δ log p| ${ref.gap.toExponential(1)}`,
  );
}

const organismConstitution = await loadConstitution(path.join(path.dirname(organism), "constitution.yaml"));
const judge = await createModel(`llama:${organism}?threads=1&parallel=2&context=512`);
await stepSplit(
  "organism (d-RLAIF, the organism judging)",
  organism,
  organismPrompts,
  judgeRewardSource({
    judge,
    constitution: organismConstitution,
    constitutionHash: constitutionHash(organismConstitution),
  }),
  1,
);
await judge.close?.();
await stepSplit(
  "smollm2-135m F16 (function reward)",
  smol,
  smolPrompts,
  functionRewardSource("length", (_c, answer) => -answer.length / 100),
  2,
);
