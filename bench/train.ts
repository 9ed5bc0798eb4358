// `npm run bench:train`: the trainer (tfjs, single-threaded wasm) on a SmolLM2-135M-shaped model, in one
// run: LoRA training tokens/s, achieved FLOP/s against the same backend's matmul peak, peak RSS, forward
// tokens/s against llama.cpp on the same file and tokens, and where a training step's time goes
// (tf.profile per kernel). Prints tables and a JSON line; asserts nothing.
//
// Env: BENCH_SEQ (default 512), BENCH_STEPS (timed training steps after 1 warm-up, default 3),
// BENCH_RANK (default 8), BENCH_REPEATS (forward / llama.cpp repeats, default 3), BENCH_TOP (profile rows, 25),
// BENCH_LLAMA=0 to skip llama.cpp, BENCH_FALLBACK_SEQS (default "256,128": shorter lengths tried when the
// requested one does not fit), BENCH_CHECKPOINT (activation checkpointing: "auto" (default), "always",
// "never" or how many blocks), BENCH_HEAD_SAVE_MIB (the fused LM head keeps its softmax up to this size,
// default the trainer's). Training and the trainer's forward pass run in child processes, one per
// length tried: running out of the 4 GiB wasm heap aborts the wasm module, and the table says so.

import { spawn } from "node:child_process";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import * as tf from "@tensorflow/tfjs-core";
import { getLlama, LlamaLogLevel, type LlamaModel, type Token } from "node-llama-cpp";
import { SeededRandom } from "../src/random/seeded-random.js";
import { accumulatedStep, sftObjective, type TrainObjective } from "../src/train/loop/train-loop.js";
import { initTrainingBackend } from "../src/train/model/backend.js";
import { checkpointedBlocks, headKeepsSoftmax, setTrainerTuning } from "../src/train/model/fast-ops.js";
import { createLora, type LoraAdapter } from "../src/train/model/lora.js";
import type { ModelConfig } from "../src/train/model/model-config.js";
import { tokenLogprobs } from "../src/train/model/transformer.js";
import { disposeWeights, loadWeights } from "../src/train/model/weights.js";
import { createSftTrainer, type SftExample } from "../src/train/objectives/sft.js";
import { benchModelFile } from "./bench-model.js";

const seq = Number(process.env.BENCH_SEQ ?? 512);
const timedSteps = Number(process.env.BENCH_STEPS ?? 3);
const rank = Number(process.env.BENCH_RANK ?? 8);
const repeats = Number(process.env.BENCH_REPEATS ?? 3);
const top = Number(process.env.BENCH_TOP ?? 25);
const withLlama = process.env.BENCH_LLAMA !== "0";
/** Set in the child processes: "train:<seq>" or "forward:<seq>". */
const childTask = process.env.BENCH_CHILD;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
const fmt = (x: number, digits = 1) => x.toFixed(digits);
const gflop = (flops: number) => flops / 1e9;
const log = (...parts: unknown[]) => console.error(`[${new Date().toISOString().slice(11, 19)}]`, ...parts);

/** Milliseconds of `f` (synchronous on wasm; the result is read back so nothing is left pending). */
function timeMs(f: () => tf.Tensor | tf.Tensor[]): number {
  const started = performance.now();
  const out = f();
  for (const t of Array.isArray(out) ? out : [out]) t.dataSync();
  const ms = performance.now() - started;
  tf.dispose(out);
  return ms;
}

/** Median ms of `f` over enough repeats to fill ~`budgetMs` (at least 3), after one warm-up. */
function medianMs(f: () => tf.Tensor | tf.Tensor[], budgetMs = 1500): number {
  const first = timeMs(f);
  const count = Math.max(3, Math.min(50, Math.ceil(budgetMs / Math.max(first, 1))));
  return median(Array.from({ length: count }, () => timeMs(f)));
}

// ---------------------------------------------------------------------------------------------------------
// FLOPs of one LoRA step (multiply-add = 2 FLOPs; element-wise ops, norms, softmax and RoPE not counted).
// n = batch·seq tokens, d = dim, q = heads·headDim, kv = kvHeads·headDim, f = ffn, V = vocab, L = blocks,
// H = heads, h = headDim, r = rank, targets = all seven projections.
//   forward  projections  P = 2·n·L·(d·q + 2·d·kv + q·d + 3·d·f)
//            LM head      O = 2·n·d·V
//            attention    A = L·2·(2·batch·H·seq²·h)        (q·kᵀ and p·v; the full seq×seq square, as the
//                                                             implementation computes it, masking afterwards)
//            LoRA         R = 2·n·L·r·Σ_targets(in + out)    (x·a then (x·a)·b)
//   backward (input gradients only: the base weights are frozen, so no weight gradient of W):
//            projections  P − P₀, P₀ = 2·n·(d·q + 2·d·kv + 2·d·f): block 0's q/k/v/gate/up read the
//                                    embedding, which no trained variable reaches, so tfjs prunes their
//                                    backward entirely (their LoRA branches still get gradients)
//            LM head      O          (dlogits · outputᵀ)
//            attention    2·A        (both operands of both products are activations)
//            LoRA         2·R        (input gradients through a and b, plus the weight gradients of a, b)
//   step = P + O + A + R + (P − P₀) + O + 2·A + 2·R  ≈ 2 × forward + A + R − P₀
// These are the *useful* FLOPs ("achieved" below). What the trainer executes on top (recomputation):
//   checkpointed blocks (c of L) rerun their forward in the backward pass, except the products by the base
//   weights, which they keep: (c / L)·(A + R); the fused LM head reruns its logits (O) when it does not keep
//   its softmax (long batches).
// ---------------------------------------------------------------------------------------------------------
interface StepFlops {
  forward: number;
  backward: number;
  total: number;
  parts: {
    projections: number;
    lmHead: number;
    attention: number;
    lora: number;
    backwardProjections: number;
    backwardLmHead: number;
    backwardAttention: number;
    backwardLora: number;
  };
}

/** FLOPs the trainer executes beyond {@link stepFlops} (see above). */
function recomputeFlops(
  flops: StepFlops,
  blocks: number,
  checkpointed: number,
  headRecomputed: boolean,
): number {
  const { attention, lora, lmHead } = flops.parts;
  return (checkpointed / blocks) * (attention + lora) + (headRecomputed ? lmHead : 0);
}

function stepFlops(config: ModelConfig, batch: number, length: number, r: number): StepFlops {
  const n = batch * length;
  const d = config.embeddingLength;
  const h = config.headDim;
  const H = config.headCount;
  const q = H * h;
  const kv = config.headCountKv * h;
  const f = config.feedForwardLength;
  const V = config.vocabSize;
  const L = config.blockCount;
  const P = 2 * n * L * (d * q + 2 * d * kv + q * d + 3 * d * f);
  const P0 = 2 * n * (d * q + 2 * d * kv + 2 * d * f);
  const O = 2 * n * d * V;
  const A = L * 2 * (2 * batch * H * length * length * h);
  const loraInOut = d + q + 2 * (d + kv) + (q + d) + 2 * (d + f) + (f + d);
  const R = 2 * n * L * r * loraInOut;
  const forward = P + O + A + R;
  const backward = P - P0 + O + 2 * A + 2 * R;
  return {
    forward,
    backward,
    total: forward + backward,
    parts: {
      projections: P,
      lmHead: O,
      attention: A,
      lora: R,
      backwardProjections: P - P0,
      backwardLmHead: O,
      backwardAttention: 2 * A,
      backwardLora: 2 * R,
    },
  };
}

/** FLOPs of a matmul kernel from its input shapes (batch dims broadcast; transpose flags not seen here). */
function matMulFlops(a: number[], b: number[]): number {
  const m = a[a.length - 2] ?? 0;
  const k = a[a.length - 1] ?? 0;
  const nOut = b[b.length - 1] ?? 0;
  const batch = Math.max(
    a.slice(0, -2).reduce((x, y) => x * y, 1),
    b.slice(0, -2).reduce((x, y) => x * y, 1),
  );
  return 2 * batch * m * k * nOut;
}

// ---------------------------------------------------------------------------------------------------------

function randomTokens(vocab: number, length: number, seed: number): number[] {
  const random = new SeededRandom(seed);
  // Avoid the first ids (special/byte tokens); any id works for random weights.
  return Array.from({ length }, () => 300 + random.int(vocab - 300));
}

/** Plain matMul GFLOP/s on the current backend for [m,k]·[k,n] (and batched shapes). */
function matMulRate(aShape: number[], bShape: number[], options: { transposeB?: boolean } = {}): number {
  const random = new SeededRandom(7);
  const a = tf.tensor(
    random.normals(
      aShape.reduce((x, y) => x * y, 1),
      1,
    ),
    aShape,
  );
  const b = tf.tensor(
    random.normals(
      bShape.reduce((x, y) => x * y, 1),
      1,
    ),
    bShape,
  );
  try {
    const ms = medianMs(() => tf.matMul(a as tf.Tensor2D, b as tf.Tensor2D, false, options.transposeB));
    const flops = options.transposeB
      ? matMulFlops(aShape, [...bShape.slice(0, -2), bShape.at(-1) ?? 0, bShape.at(-2) ?? 0])
      : matMulFlops(aShape, bShape);
    return gflop(flops) / (ms / 1000);
  } finally {
    tf.dispose([a, b]);
  }
}

interface Row {
  section: string;
  measure: string;
  value: string;
  note: string;
}
const rows: Row[] = [];
const row = (section: string, measure: string, value: string, note = "") => {
  rows.push({ section, measure, value, note });
  log(`${section} | ${measure} | ${value} | ${note}`);
};
const figures: Record<string, number | string> = {};

// 2, 3, 5. Training, peak RSS and the profile run in a child process per sequence length: a step that
// exhausts the 4 GB wasm heap aborts the whole wasm module, so the parent reports it and tries a shorter one.
interface TrainResult {
  seq: number;
  /** Blocks checkpointed (recomputed in the backward pass) and whether the LM head recomputed its logits. */
  checkpointedBlocks: number;
  headRecomputed: boolean;
  stepMs: number[];
  forwardMs: number[];
  losses: number[];
  maxRssMb: number;
  tfjsMib: number;
  wasmHeapMib: number;
  profiledStepMs: number;
  kernels: Kernel[];
}
interface Kernel {
  name: string;
  shapes: string;
  ms: number;
  flops: number;
  phase: "forward" | "backward";
}

/** Size of the wasm heap (it only grows, so this is its peak; the limit is 4 GiB), 0 off wasm. */
function wasmHeapMib(): number {
  const wasm = (tf.backend() as unknown as { wasm?: { HEAPU8?: Uint8Array } }).wasm;
  return (wasm?.HEAPU8?.length ?? 0) / 2 ** 20;
}

/** The child's trainer tuning from BENCH_CHECKPOINT and BENCH_HEAD_SAVE_MIB. */
function applyBenchTuning(): void {
  const checkpoint = process.env.BENCH_CHECKPOINT;
  const headSave = process.env.BENCH_HEAD_SAVE_MIB;
  setTrainerTuning({
    ...(checkpoint === undefined
      ? {}
      : {
          checkpoint:
            checkpoint === "auto" || checkpoint === "always" || checkpoint === "never"
              ? checkpoint
              : Number(checkpoint),
        }),
    ...(headSave === undefined ? {} : { headSaveBytes: Number(headSave) * 2 ** 20 }),
  });
}

async function trainChild(trainSeq: number): Promise<TrainResult> {
  await initTrainingBackend();
  applyBenchTuning();
  const weights = await loadWeights(await benchModelFile("F16"));
  const trainTokens = randomTokens(weights.config.vocabSize, trainSeq, 1);
  const lora = createLora(weights, { rank });
  const trainer = createSftTrainer(weights, lora, { learningRate: 1e-4 });
  const base = sftObjective(trainer);
  let forwardMs = 0;
  const objective: TrainObjective<SftExample> = {
    ...base,
    loss: (batch) => {
      const t0 = performance.now();
      const loss = base.loss(batch);
      forwardMs = performance.now() - t0;
      return loss;
    },
  };
  const example: SftExample = { tokens: trainTokens, lossMask: trainTokens.map((_, i) => (i === 0 ? 0 : 1)) };
  const result: TrainResult = {
    seq: trainSeq,
    checkpointedBlocks: checkpointedBlocks(weights.config, 1, trainSeq),
    headRecomputed: !headKeepsSoftmax(trainSeq - 1, weights.config.vocabSize),
    stepMs: [],
    forwardMs: [],
    losses: [],
    maxRssMb: 0,
    tfjsMib: 0,
    wasmHeapMib: 0,
    profiledStepMs: 0,
    kernels: [],
  };
  for (let step = 0; step <= timedSteps; step += 1) {
    const t0 = performance.now();
    const record = accumulatedStep(objective, [[example]], 1e-4, step + 1);
    const ms = performance.now() - t0;
    log(
      `seq ${trainSeq} step ${step}${step === 0 ? " (warm-up)" : ""}: ${fmt(ms / 1000, 2)} s (forward ${fmt(forwardMs / 1000, 2)} s), loss ${fmt(record.loss, 4)}, RSS peak ${fmt(process.resourceUsage().maxRSS / 1024, 0)} MB, wasm heap ${fmt(wasmHeapMib(), 0)} MiB`,
    );
    if (step > 0) {
      result.stepMs.push(ms);
      result.forwardMs.push(forwardMs);
      result.losses.push(record.loss);
    }
  }
  result.maxRssMb = process.resourceUsage().maxRSS / 1024;
  result.tfjsMib = tf.memory().numBytes / 2 ** 20;
  result.wasmHeapMib = wasmHeapMib();

  // 5. Profile one more step: every kernel with its time, input shapes and phase.
  let boundary = -1;
  const engineState = tf.engine().state;
  const profiled: TrainObjective<SftExample> = {
    ...base,
    loss: (batch) => {
      const loss = base.loss(batch);
      boundary = engineState.activeProfile.kernels.length;
      return loss;
    },
  };
  const t0 = performance.now();
  const profile = await tf.profile(() => {
    accumulatedStep(profiled, [[example]], 1e-4, timedSteps + 2);
    return [];
  });
  result.profiledStepMs = performance.now() - t0;
  // Custom-gradient ops (tf.customGrad) show up as pseudo-kernels whose time includes the kernels they ran,
  // which are listed too: keep registered kernels only.
  const backendName = tf.getBackend();
  const real = profile.kernels.map((k, i) => ({ k, i })).filter(({ k }) => tf.getKernel(k.name, backendName));
  result.kernels = real.map(({ k, i }) => {
    const [a, b] = k.inputShapes;
    const isMatMul = k.name === "BatchMatMul" || k.name === "_FusedMatMul";
    return {
      name: k.name,
      shapes: k.inputShapes.map((shape) => `[${shape ?? ""}]`).join("·"),
      ms: typeof k.kernelTimeMs === "number" ? k.kernelTimeMs : 0,
      flops: isMatMul && a && b ? matMulFlops(a, b) : 0,
      phase: i < boundary ? "forward" : "backward",
    };
  });
  return result;
}

/** Forward-only seconds of the trainer (tokenLogprobs, no tape) without and with a LoRA adapter. */
interface ForwardResult {
  seq: number;
  plainSeconds: number;
  loraSeconds: number;
  wasmHeapMib: number;
}

async function forwardChild(forwardSeq: number): Promise<ForwardResult> {
  await initTrainingBackend();
  const weights = await loadWeights(await benchModelFile("F16"));
  const forwardTokens = randomTokens(weights.config.vocabSize, forwardSeq, 1);
  const seconds = (adapter?: LoraAdapter) =>
    medianMs(() => tokenLogprobs(weights, [forwardTokens], adapter), 1) / 1000;
  const plainSeconds = seconds();
  const loraSeconds = seconds(createLora(weights, { rank }));
  return { seq: forwardSeq, plainSeconds, loraSeconds, wasmHeapMib: wasmHeapMib() };
}

/**
 * Runs {@link trainChild} or {@link forwardChild} in a fresh process: a failure (e.g. the wasm heap's 4 GiB
 * running out, which aborts the module) comes back as its reason.
 */
function inChild<T>(mode: "train" | "forward", childSeq: number): Promise<{ result?: T; failure?: string }> {
  const outFile = path.join(os.tmpdir(), `cai-bench-train-${process.pid}-${mode}-${childSeq}.json`);
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url)], {
      env: { ...process.env, BENCH_CHILD: `${mode}:${childSeq}`, BENCH_CHILD_OUT: outFile },
      stdio: ["ignore", "inherit", "pipe"],
    });
    let err = "";
    child.stderr.on("data", (chunk: Buffer) => {
      const text = chunk.toString();
      err += text;
      // Progress lines only (a wasm abort prints the whole minified module).
      for (const line of text.split("\n")) if (line.startsWith("[") && line.length < 400) console.error(line);
    });
    child.on("close", (code) => {
      if (code === 0) {
        resolve({ result: JSON.parse(readFileSync(outFile, "utf8")) as T });
        rmSync(outFile, { force: true });
      } else {
        // Short lines only: a wasm abort also prints the whole minified module.
        const lines = err.split("\n").filter((line) => line.length < 300);
        const reason =
          [/XNN status.*/, /Aborted\(\).*/, /^\w*Error: .*/]
            .map((re) => lines.find((line) => re.test(line))?.match(re)?.[0])
            .filter((m) => m !== undefined)
            .join("; ") || `exit code ${code}`;
        resolve({ failure: reason });
      }
    });
  });
}

if (childTask !== undefined) {
  const [mode, childSeq] = childTask.split(":");
  const result =
    mode === "forward" ? await forwardChild(Number(childSeq)) : await trainChild(Number(childSeq));
  // A file, not stdout: process.exit would cut a large write to a pipe short.
  writeFileSync(process.env.BENCH_CHILD_OUT ?? "/dev/null", JSON.stringify(result));
  process.exit(0);
}

/** The profile tables of one step: by kernel, then by kernel, shapes and phase. */
function profileReport(trained: TrainResult, flops: StepFlops, stepMs: number): string[] {
  const { kernels } = trained;
  const kernelTotal = kernels.reduce((s, k) => s + k.ms, 0);
  const sumBy = (key: (k: Kernel) => string) => {
    const groups = new Map<string, { ms: number; count: number; flops: number }>();
    for (const k of kernels) {
      const g = groups.get(key(k)) ?? { ms: 0, count: 0, flops: 0 };
      g.ms += k.ms;
      g.count += 1;
      g.flops += k.flops;
      groups.set(key(k), g);
    }
    return [...groups.entries()].sort((x, y) => y[1].ms - x[1].ms);
  };
  const rate = (g: { ms: number; flops: number }) =>
    g.flops > 0 ? fmt(gflop(g.flops) / (g.ms / 1000), 1) : "";
  const forwardKernelMs = kernels.filter((k) => k.phase === "forward").reduce((s, k) => s + k.ms, 0);
  const lines: string[] = [];
  lines.push(
    `\nProfile of one step at seq ${trained.seq} (tf.profile; wall ${fmt(trained.profiledStepMs / 1000, 2)} s with profiling on, ` +
      `${fmt(stepMs / 1000, 2)} s without; kernels ${fmt(kernelTotal / 1000, 2)} s = forward ${fmt(forwardKernelMs / 1000, 2)} s + ` +
      `backward/optimizer ${fmt((kernelTotal - forwardKernelMs) / 1000, 2)} s; ${kernels.length} kernel calls; share = of kernel time)\n`,
  );
  lines.push("| kernel | calls | ms | share | GFLOP/s |");
  lines.push("|---|---|---|---|---|");
  for (const [name, g] of sumBy((k) => k.name).slice(0, 15))
    lines.push(
      `| ${name} | ${g.count} | ${fmt(g.ms, 0)} | ${fmt((100 * g.ms) / kernelTotal, 1)}% | ${rate(g)} |`,
    );
  lines.push(`\nTop ${top} by phase, kernel and input shapes:\n`);
  lines.push("| phase | kernel | input shapes | calls | ms | share | GFLOP/s |");
  lines.push("|---|---|---|---|---|---|---|");
  for (const [key, g] of sumBy((k) => `${k.phase} | ${k.name} | ${k.shapes}`).slice(0, top))
    lines.push(
      `| ${key} | ${g.count} | ${fmt(g.ms, 0)} | ${fmt((100 * g.ms) / kernelTotal, 1)}% | ${rate(g)} |`,
    );
  const matMuls = kernels.filter((k) => k.flops > 0);
  const matMulMs = matMuls.reduce((s, k) => s + k.ms, 0);
  const matMulFlops = matMuls.reduce((s, k) => s + k.flops, 0);
  const batched = matMuls.filter((k) => k.shapes.split("·")[0]?.split(",").length === 3);
  const batchedMs = batched.reduce((s, k) => s + k.ms, 0);
  const batchedFlops = batched.reduce((s, k) => s + k.flops, 0);
  lines.push(
    `\nmatMul kernels: ${fmt(matMulMs / 1000, 2)} s (${fmt((100 * matMulMs) / kernelTotal, 1)}%) for ${fmt(gflop(matMulFlops), 1)} GFLOP ` +
      `counted from their shapes (analytic: useful ${fmt(gflop(flops.total), 1)} + recomputed ${fmt(gflop(recomputeFlops(flops, config.blockCount, trained.checkpointedBlocks, trained.headRecomputed)), 1)}), i.e. ${fmt(gflop(matMulFlops) / (matMulMs / 1000), 1)} GFLOP/s; ` +
      (batchedMs > 0
        ? `of which batched 3-D ${fmt(batchedMs / 1000, 2)} s for ${fmt(gflop(batchedFlops), 1)} GFLOP (${fmt(gflop(batchedFlops) / (batchedMs / 1000), 1)} GFLOP/s), `
        : "no batched 3-D products; ") +
      `2-D ${fmt((matMulMs - batchedMs) / 1000, 2)} s for ${fmt(gflop(matMulFlops - batchedFlops), 1)} GFLOP (${fmt(gflop(matMulFlops - batchedFlops) / ((matMulMs - batchedMs) / 1000), 1)} GFLOP/s). ` +
      `Non-matMul kernels: ${fmt((kernelTotal - matMulMs) / 1000, 2)} s (${fmt((100 * (kernelTotal - matMulMs)) / kernelTotal, 1)}%).`,
  );
  return lines;
}

/** The requested sequence length, then shorter ones to try when it does not fit. */
const fallbackSeqs = [
  ...new Set([seq, ...(process.env.BENCH_FALLBACK_SEQS ?? "256,128").split(",").map(Number)]),
].filter((n) => n <= seq);

// ---------------------------------------------------------------------------------------------------------
const backend = await initTrainingBackend();
log(`tfjs backend: ${backend}`);
figures.backend = backend;
const file = await benchModelFile("F16");
const started = performance.now();
const weights = await loadWeights(file);
const { config } = weights;
row(
  "setup",
  "load weights (F16 → float32 tensors)",
  `${fmt((performance.now() - started) / 1000, 2)} s`,
  file,
);
// The parent only needs the config: training and the forward pass run in child processes.
disposeWeights(weights);
const d = config.embeddingLength;
const ffn = config.feedForwardLength;
const kvDim = config.headCountKv * config.headDim;
const heads = config.headCount;
const headDim = config.headDim;

// 1. Matmul peak of this backend at the model's real shapes. -----------------------------------------------
const peakShapes: Array<{ name: string; a: number[]; b: number[] }> = [
  { name: "q/o proj", a: [seq, d], b: [d, d] },
  { name: "k/v proj", a: [seq, d], b: [d, kvDim] },
  { name: "gate/up proj", a: [seq, d], b: [d, ffn] },
  { name: "down proj", a: [seq, ffn], b: [ffn, d] },
  { name: "LM head", a: [seq, d], b: [d, config.vocabSize] },
  { name: "LM head grad (dlogits·Wᵀ)", a: [seq, config.vocabSize], b: [config.vocabSize, d] },
  { name: "1024³", a: [1024, 1024], b: [1024, 1024] },
];
const rates: Record<string, number> = {};
for (const shape of peakShapes) {
  const rate = matMulRate(shape.a, shape.b);
  rates[shape.name] = rate;
  row(
    "matmul",
    `${shape.name} [${shape.a}]·[${shape.b}]`,
    `${fmt(rate)} GFLOP/s`,
    "plain 2-D tf.matMul, wasm, 1 thread",
  );
}
const peak = Math.max(...Object.values(rates));
row("matmul", "PEAK (max of the above)", `${fmt(peak)} GFLOP/s`);
figures.matmulPeakGflops = peak;
for (const [name, value] of Object.entries(rates)) figures[`matmul ${name}`] = value;

// Off-peak kernels the trainer uses (for the profile's interpretation; not part of the peak).
const attnA = [heads, seq, headDim];
const attnB = [heads, headDim, seq];
const batchedScores = matMulRate(attnA, attnB);
row("matmul", `attention q·kᵀ, batched 3-D [${attnA}]·[${attnB}]`, `${fmt(batchedScores)} GFLOP/s`);
const batchedMix = matMulRate([heads, seq, seq], [heads, seq, headDim]);
row(
  "matmul",
  `attention p·v, batched 3-D [${heads},${seq},${seq}]·[${attnB[0]},${seq},${headDim}]`,
  `${fmt(batchedMix)} GFLOP/s`,
);
// What the trainer runs instead: per (sequence, KV head) the group's query heads stacked along the rows.
const group = heads / config.headCountKv;
const perHeadScores = matMulRate([group * seq, headDim], [headDim, seq]);
row(
  "matmul",
  `grouped q·kᵀ as 2-D [${group * seq},${headDim}]·[${headDim},${seq}]`,
  `${fmt(perHeadScores)} GFLOP/s`,
  `×${config.headCountKv} KV heads: what the trainer runs`,
);
const perHeadMix = matMulRate([group * seq, seq], [seq, headDim]);
row(
  "matmul",
  `grouped p·v as 2-D [${group * seq},${seq}]·[${seq},${headDim}]`,
  `${fmt(perHeadMix)} GFLOP/s`,
  "what the trainer runs",
);
const vocabBlock = 4096;
const headGradBlocked =
  config.vocabSize % vocabBlock === 0 ? matMulRate([seq, vocabBlock], [vocabBlock, d]) : Number.NaN;
row(
  "matmul",
  `LM head grad in vocabulary blocks [${seq},${vocabBlock}]·[${vocabBlock},${d}]`,
  `${fmt(headGradBlocked)} GFLOP/s`,
  "what the trainer runs (summed over the blocks)",
);
const flagged = matMulRate([seq, ffn], [d, ffn], { transposeB: true });
row(
  "matmul",
  `transposeB flag [${seq},${ffn}]·[${d},${ffn}]ᵀ`,
  `${fmt(flagged)} GFLOP/s`,
  "what tfjs's own matMul gradient would run",
);
const loraA = matMulRate([seq, d], [d, rank]);
row("matmul", `LoRA x·a [${seq},${d}]·[${d},${rank}]`, `${fmt(loraA)} GFLOP/s`);
Object.assign(figures, {
  batchedScores,
  batchedMix,
  perHeadScores,
  perHeadMix,
  headGradBlocked,
  flagged,
  loraA,
});

// 2. LoRA training steps (child processes; the requested length first, then shorter ones if it cannot run).
const trainSeqs = [
  ...new Set([seq, ...(process.env.BENCH_FALLBACK_SEQS ?? "256,128").split(",").map(Number)]),
].filter((n) => n <= seq);
let trained: TrainResult | undefined;
for (const trainSeq of trainSeqs) {
  log(`training at seq ${trainSeq} in a child process…`);
  const { result, failure } = await inChild<TrainResult>("train", trainSeq);
  if (result) {
    trained = result;
    break;
  }
  row("train", `LoRA r=${rank} step, seq ${trainSeq}, batch 1`, "FAILED", failure ?? "");
  figures[`trainFailureSeq${trainSeq}`] = failure ?? "failed";
}
const profileLines: string[] = [];
if (trained) {
  const trainSeq = trained.seq;
  const flops = stepFlops(config, 1, trainSeq, rank);
  const stepMs = median(trained.stepMs);
  const stepForwardMs = median(trained.forwardMs);
  const trainTokS = trainSeq / (stepMs / 1000);
  const achieved = gflop(flops.total) / (stepMs / 1000);
  const recompute = recomputeFlops(
    flops,
    config.blockCount,
    trained.checkpointedBlocks,
    trained.headRecomputed,
  );
  const executed = gflop(flops.total + recompute) / (stepMs / 1000);
  row(
    "train",
    `LoRA r=${rank} (7 targets) step, seq ${trainSeq}, batch 1`,
    `${fmt(stepMs / 1000, 2)} s`,
    `median of ${timedSteps} after 1 warm-up; loss ${trained.losses.map((l) => fmt(l, 3)).join(" → ")}`,
  );
  row(
    "train",
    "  of which forward (loss fn, tape on)",
    `${fmt(stepForwardMs / 1000, 2)} s`,
    `${fmt((100 * stepForwardMs) / stepMs, 0)}%`,
  );
  row(
    "train",
    "  of which backward + AdamW + norm",
    `${fmt((stepMs - stepForwardMs) / 1000, 2)} s`,
    `${fmt((100 * (stepMs - stepForwardMs)) / stepMs, 0)}%`,
  );
  row(
    "train",
    "training tokens/s",
    `${fmt(trainTokS, 1)} tok/s`,
    "PyTorch/OpenBLAS 2 threads, seq 512: 89 tok/s (FACTS.md)",
  );
  row(
    "train",
    "FLOPs per step (analytic)",
    `${fmt(gflop(flops.total), 1)} GFLOP`,
    `forward ${fmt(gflop(flops.forward), 1)} + backward ${fmt(gflop(flops.backward), 1)}`,
  );
  row(
    "train",
    "achieved",
    `${fmt(achieved, 2)} GFLOP/s`,
    `forward alone ${fmt(gflop(flops.forward) / (stepForwardMs / 1000), 2)} GFLOP/s`,
  );
  row("train", "achieved / matmul peak", `${fmt((100 * achieved) / peak, 1)}%`, "useful FLOPs; target ≥ 40%");
  row(
    "train",
    "recomputation (not counted above)",
    `${fmt(gflop(recompute), 1)} GFLOP`,
    `${trained.checkpointedBlocks} of ${config.blockCount} blocks checkpointed (attention + LoRA rerun, base-weight products kept); ` +
      `LM head ${trained.headRecomputed ? "reruns its logits" : "keeps its softmax"}; ` +
      `${fmt((100 * recompute) / flops.total, 1)}% over the useful FLOPs`,
  );
  row(
    "train",
    "executed incl. recomputation",
    `${fmt(executed, 2)} GFLOP/s`,
    `${fmt((100 * executed) / peak, 1)}% of the matmul peak`,
  );
  // 3. Peak RSS of the training process.
  row(
    "memory",
    "peak RSS of the training process (maxRSS)",
    `${fmt(trained.maxRssMb, 0)} MB`,
    `wasm heap ${fmt(trained.wasmHeapMib, 0)} MiB of 4096; tfjs tensors live after training ${fmt(trained.tfjsMib, 0)} MiB`,
  );
  Object.assign(figures, {
    trainSeq,
    rank,
    stepSeconds: stepMs / 1000,
    stepForwardSeconds: stepForwardMs / 1000,
    trainTokensPerSecond: trainTokS,
    stepGflop: gflop(flops.total),
    forwardGflop: gflop(flops.forward),
    backwardGflop: gflop(flops.backward),
    achievedGflops: achieved,
    ratioToPeak: achieved / peak,
    checkpointedBlocks: trained.checkpointedBlocks,
    headRecomputed: trained.headRecomputed,
    recomputeGflop: gflop(recompute),
    executedGflops: executed,
    peakRssMb: trained.maxRssMb,
    wasmHeapMib: trained.wasmHeapMib,
  });
  profileLines.push(...profileReport(trained, flops, stepMs));
  profileLines.push(
    `\nFLOPs per step at seq ${trainSeq}: forward ${fmt(gflop(flops.forward), 1)} G = projections ${fmt(gflop(flops.parts.projections), 1)} + LM head ${fmt(gflop(flops.parts.lmHead), 1)} + attention ${fmt(gflop(flops.parts.attention), 1)} + LoRA ${fmt(gflop(flops.parts.lora), 1)}; ` +
      `backward ${fmt(gflop(flops.backward), 1)} G = projections ${fmt(gflop(flops.parts.backwardProjections), 1)} + LM head ${fmt(gflop(flops.parts.backwardLmHead), 1)} + attention ${fmt(gflop(flops.parts.backwardAttention), 1)} + LoRA ${fmt(gflop(flops.parts.backwardLora), 1)}`,
  );
}
figures.parentPeakRssMbBeforeLlama = process.resourceUsage().maxRSS / 1024;

// 4. Forward-only tokens/s: trainer vs llama.cpp on the same file and tokens. ------------------------------
let forwarded: ForwardResult | undefined;
for (const forwardSeq of fallbackSeqs) {
  log(`trainer forward at seq ${forwardSeq} in a child process…`);
  const { result, failure } = await inChild<ForwardResult>("forward", forwardSeq);
  if (result) {
    forwarded = result;
    break;
  }
  row("forward", `trainer tokenLogprobs, ${forwardSeq} tokens, no grad`, "FAILED", failure ?? "");
  figures[`forwardFailureSeq${forwardSeq}`] = failure ?? "failed";
}
if (forwarded) {
  const fwdFlops = stepFlops(config, 1, forwarded.seq, rank);
  row(
    "forward",
    `trainer tokenLogprobs, ${forwarded.seq} tokens, no grad`,
    `${fmt(forwarded.seq / forwarded.plainSeconds, 1)} tok/s`,
    `${fmt(forwarded.plainSeconds, 2)} s; ${fmt(gflop(fwdFlops.forward - fwdFlops.parts.lora) / forwarded.plainSeconds, 1)} GFLOP/s; wasm heap ${fmt(forwarded.wasmHeapMib, 0)} MiB`,
  );
  row(
    "forward",
    "trainer tokenLogprobs with the LoRA adapter",
    `${fmt(forwarded.seq / forwarded.loraSeconds, 1)} tok/s`,
    `${fmt(forwarded.loraSeconds, 2)} s`,
  );
  Object.assign(figures, {
    forwardSeq: forwarded.seq,
    trainerForwardTokensPerSecond: forwarded.seq / forwarded.plainSeconds,
    trainerForwardLoraTokensPerSecond: forwarded.seq / forwarded.loraSeconds,
  });
}

/** llama.cpp tokens/s evaluating `input` in one batch: logits at every position, or a plain prefill. */
async function llamaForward(
  model: LlamaModel,
  input: Token[],
  threads: number,
  allLogits: boolean,
): Promise<number> {
  const context = await model.createContext({
    contextSize: Math.max(1024, input.length + 64),
    batchSize: input.length,
    threads,
    flashAttention: false,
  });
  try {
    const sequence = context.getSequence();
    const once = async () => {
      await sequence.clearHistory();
      const t0 = performance.now();
      if (allLogits)
        // Logits (and a greedy pick) at every position, as tokenLogprobs computes them.
        await sequence.controlledEvaluate(
          input.map((t) => [t, { generateNext: { token: true, options: { temperature: 0 } } }] as const),
        );
      else await sequence.evaluateWithoutGeneratingNewTokens(input);
      return (performance.now() - t0) / 1000;
    };
    await once();
    const times: number[] = [];
    for (let r = 0; r < repeats; r += 1) times.push(await once());
    return input.length / median(times);
  } finally {
    await context.dispose();
  }
}

if (withLlama) {
  const llama = await getLlama({ gpu: false, logLevel: LlamaLogLevel.error, progressLogs: false });
  const model = await llama.loadModel({ modelPath: file });
  const threadCounts = [...new Set([1, 2, llama.cpuMathCores])];
  // The trainer's forward length (for the ratio), and the requested one when the trainer could not run it.
  const lengths = [...new Set([forwarded?.seq ?? seq, seq])];
  for (const length of lengths)
    for (const threads of threadCounts) {
      const input = randomTokens(config.vocabSize, length, 1) as Token[];
      const trainerTokS = forwarded?.seq === length ? length / forwarded.plainSeconds : undefined;
      const ratio = (x: number) =>
        trainerTokS === undefined ? "" : `trainer / llama.cpp = ${fmt(trainerTokS / x, 3)}`;
      const all = await llamaForward(model, input, threads, true);
      const last = await llamaForward(model, input, threads, false);
      row(
        "forward",
        `llama.cpp T=${threads}, ${length} tokens, logits at every position`,
        `${fmt(all, 1)} tok/s`,
        ratio(all),
      );
      row(
        "forward",
        `llama.cpp T=${threads}, ${length} tokens, prefill only (no per-position logits)`,
        `${fmt(last, 1)} tok/s`,
        ratio(last),
      );
      figures[`llamaAllLogitsT${threads}Seq${length}`] = all;
      figures[`llamaPrefillT${threads}Seq${length}`] = last;
      if (trainerTokS !== undefined) figures[`trainerOverLlamaAllLogitsT${threads}`] = trainerTokS / all;
    }
  await model.dispose();
  await llama.dispose();
}

// ---------------------------------------------------------------------------------------------------------
console.log(
  `\nTrainer benchmark: SmolLM2-135M-shaped model (${file.split("/").pop()}, dequantised to float32), tfjs ${backend} 1 thread, ` +
    `batch 1, LoRA rank ${rank} on all 7 targets, ${timedSteps} timed steps after 1 warm-up; forward and llama.cpp as labelled\n`,
);
console.log("| section | measure | value | note |");
console.log("|---|---|---|---|");
for (const r of rows) console.log(`| ${r.section} | ${r.measure} | ${r.value} | ${r.note} |`);
for (const line of profileLines) console.log(line);
console.log(`\n${JSON.stringify(figures)}`);
