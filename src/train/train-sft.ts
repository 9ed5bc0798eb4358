// `cai train sft` as a library call: LoRA supervised fine-tuning of a GGUF base model on chat conversations
// (TRL's conversational `{messages}` JSONL, what `cai export --format sft` writes), tokenised with the
// model's own chat template exactly as inference renders it, then exported as a GGUF adapter (for
// llama.cpp / cai) and a PEFT adapter (for Hugging Face).
//
// Batches: sequences of one micro-batch are right-padded to the longest with loss mask 0. Attention is
// causal, so padding after a sequence changes none of its log-probabilities: the loss is exactly that of
// the unpadded batch.
import { access, mkdir } from "node:fs/promises";
import path from "node:path";
import { readJsonLines } from "../data/jsonl-file.js";
import { CaiError } from "../errors/cai-error.js";
import { InputFileError } from "../errors/input-file-error.js";
import { LlamaLanguageModel } from "../models/llama/llama-language-model.js";
import type { ChatMessage, ChatRole } from "../models/model.js";
import { initTrainingBackend } from "./backend.js";
import { sftExampleFromMessages } from "./chat-tokens.js";
import { writeGgufAdapter } from "./export-gguf-adapter.js";
import { writePeftAdapter } from "./export-peft-adapter.js";
import { createLora, disposeLora } from "./lora.js";
import { createSftTrainer, type SftExample, sftLoss } from "./sft.js";
import { sftObjective, type TrainProgress, trainLoop } from "./train-loop.js";
import { disposeWeights, loadWeights } from "./weights.js";

/** Options of {@link trainSft}. */
export interface TrainSftOptions {
  /** The base model, a GGUF file (F32, F16, BF16 or Q8_0). */
  readonly base: string;
  /** A JSONL file of `{"messages": [...]}` rows, each ending with the assistant message to learn. */
  readonly data: string;
  /** Output directory: `checkpoints/`, `adapter-*.gguf` and `peft/`. Rerunning resumes from its checkpoints. */
  readonly out: string;
  /** LoRA rank. Default 8. */
  readonly rank?: number;
  /** LoRA alpha (the update is scaled by alpha / rank). Default 16. */
  readonly alpha?: number;
  /** Optimizer updates in total (counting those of a resumed run). Default 100. */
  readonly steps?: number;
  /** Conversations per update. Default 1. */
  readonly batchSize?: number;
  /** Peak learning rate (warmup, then cosine decay). Default 1e-4. */
  readonly lr?: number;
  /** Seed of the adapter's initialisation and of the data order. Default 0. */
  readonly seed?: number;
  /** Longest sequence in tokens; longer ones are cut at the end, skipped if no answer token remains. Default: the model's context length. */
  readonly maxLength?: number;
  /** Aborting it checkpoints and ends the run early (the adapter is still written). */
  readonly stop?: AbortSignal;
  readonly onProgress?: (progress: TrainProgress) => void;
  /** Non-fatal problems (skipped or truncated rows). Default: ignored. */
  readonly onWarning?: (message: string) => void;
}

/** What {@link trainSft} produced. */
export interface TrainSftResult {
  /** The GGUF adapter written (a new file name on every run). */
  readonly adapter: string;
  /** The PEFT adapter directory and its two files. */
  readonly peft: { readonly dir: string; readonly weights: string; readonly config: string };
  /** Updates done (including those restored from a checkpoint). */
  readonly step: number;
  /** The step this run resumed from (0: fresh). */
  readonly resumedFrom: number;
  /** True when `stop` ended the run early. */
  readonly stopped: boolean;
  /** How many conversations were trained on, and how many were skipped. */
  readonly examples: number;
  readonly skipped: number;
  /** Loss of the first and of the last update (NaN when no update was done). */
  readonly firstLoss: number;
  readonly finalLoss: number;
}

const roles: readonly ChatRole[] = ["system", "user", "assistant"];

/** The conversation of one JSONL row, or an InputFileError naming the line. */
export function conversationOfRow(file: string, line: number, value: unknown): ChatMessage[] {
  const fail = (problem: string, field?: string): never => {
    throw new InputFileError(file, problem, field === undefined ? { line } : { line, field });
  };
  if (typeof value !== "object" || value === null || Array.isArray(value))
    return fail("expected an object with a messages array");
  const messages = (value as { messages?: unknown }).messages;
  if (!Array.isArray(messages) || messages.length === 0)
    return fail("expected a non-empty messages array", "messages");
  return messages.map((message: unknown, i): ChatMessage => {
    const field = `messages[${i}]`;
    if (typeof message !== "object" || message === null) return fail("expected {role, content}", field);
    const { role, content } = message as { role?: unknown; content?: unknown };
    if (typeof role !== "string" || !(roles as readonly string[]).includes(role))
      return fail(`role must be one of ${roles.join(", ")}`, `${field}.role`);
    if (typeof content !== "string") return fail("content must be a string", `${field}.content`);
    return { role: role as ChatRole, content };
  });
}

/** `batch` right-padded to its longest sequence, padding masked out (exact under causal attention). */
export function padBatch(batch: readonly SftExample[]): SftExample[] {
  const length = Math.max(...batch.map((e) => e.tokens.length));
  return batch.map((e) => {
    const missing = length - e.tokens.length;
    if (missing === 0) return e;
    const pad = e.tokens[e.tokens.length - 1] ?? 0;
    return {
      tokens: [...e.tokens, ...new Array<number>(missing).fill(pad)],
      lossMask: [...e.lossMask, ...new Array<number>(missing).fill(0)],
    };
  });
}

/** Reads, tokenises and length-checks the conversations of `options.data`. */
async function loadExamples(
  options: TrainSftOptions,
  maxLength: number,
): Promise<{ examples: SftExample[]; skipped: number }> {
  const warn = options.onWarning ?? (() => {});
  const rows = await readJsonLines(options.data);
  if (rows.length === 0) throw new InputFileError(options.data, "it holds no conversations");
  const conversations = rows.map(({ line, value }) => ({
    line,
    messages: conversationOfRow(options.data, line, value),
  }));
  const model = await LlamaLanguageModel.load(options.base, {
    threads: 1,
    gpu: false,
    parallel: 1,
    contextSize: 256,
  });
  const examples: SftExample[] = [];
  let skipped = 0;
  try {
    for (const { line, messages } of conversations) {
      let example: SftExample;
      try {
        example = sftExampleFromMessages(model.prompts, messages);
      } catch (error) {
        if (!CaiError.isInstance(error)) throw error;
        throw new InputFileError(options.data, error.message, { line }, { cause: error });
      }
      if (example.tokens.length > maxLength) {
        example = {
          tokens: example.tokens.slice(0, maxLength),
          lossMask: example.lossMask.slice(0, maxLength),
        };
        if (!example.lossMask.slice(1).includes(1)) {
          warn(`${options.data}:${line}: skipped, the answer starts after ${maxLength} tokens`);
          skipped += 1;
          continue;
        }
        warn(`${options.data}:${line}: cut to ${maxLength} tokens`);
      }
      examples.push(example);
    }
  } finally {
    await model.close();
  }
  if (examples.length === 0) throw new InputFileError(options.data, "no conversation fits --max-length");
  return { examples, skipped };
}

/** A path in `dir` no file has: `adapter-step<N>-<UTC time>[-k].gguf`. */
async function freshAdapterPath(dir: string, step: number): Promise<string> {
  const stamp = new Date()
    .toISOString()
    .replace(/[-:]/g, "")
    .replace(/\.\d+Z$/, "Z");
  const stem = `adapter-step${String(step).padStart(6, "0")}-${stamp}`;
  for (let k = 0; ; k += 1) {
    const candidate = path.join(dir, `${stem}${k === 0 ? "" : `-${k}`}.gguf`);
    try {
      await access(candidate);
    } catch {
      return candidate;
    }
  }
}

/**
 * Trains a LoRA adapter on `options.base` by SFT on the final assistant message of every conversation in
 * `options.data`, with checkpoints in `out/checkpoints` (a rerun resumes from the newest), and writes
 * `out/adapter-step<N>-<time>.gguf` (a new name every time: llama.cpp caches adapters by path) and
 * `out/peft/`.
 */
export async function trainSft(options: TrainSftOptions): Promise<TrainSftResult> {
  const rank = options.rank ?? 8;
  const alpha = options.alpha ?? 16;
  const steps = options.steps ?? 100;
  const batchSize = options.batchSize ?? 1;
  const lr = options.lr ?? 1e-4;
  const seed = options.seed ?? 0;
  if (!(lr > 0 && Number.isFinite(lr))) throw new CaiError(`the learning rate must be positive, not ${lr}`);

  await initTrainingBackend();
  const weights = await loadWeights(options.base);
  try {
    const maxLength = options.maxLength ?? weights.config.contextLength;
    if (!(Number.isInteger(maxLength) && maxLength >= 2))
      throw new CaiError(`the maximum length must be a whole number ≥ 2, not ${maxLength}`);
    const { examples, skipped } = await loadExamples(options, maxLength);
    const lora = createLora(weights, { rank, alpha, seed });
    const trainer = createSftTrainer(weights, lora, { learningRate: lr });
    try {
      const base = sftObjective(trainer);
      const result = await trainLoop({
        objective: { ...base, loss: (batch) => sftLoss(weights, lora, padBatch(batch)) },
        examples,
        batchSize,
        totalSteps: steps,
        learningRate: { peak: lr, warmupSteps: Math.min(10, Math.floor(steps / 10)) },
        maxGradNorm: 1,
        seed,
        checkpointDir: path.join(options.out, "checkpoints"),
        ...(options.stop ? { stop: options.stop } : {}),
        ...(options.onProgress ? { onProgress: options.onProgress } : {}),
      });
      await mkdir(options.out, { recursive: true });
      const adapter = await freshAdapterPath(options.out, result.step);
      await writeGgufAdapter(adapter, lora, weights.config.architecture);
      const peftDir = path.join(options.out, "peft");
      const peft = await writePeftAdapter(peftDir, lora, weights.config);
      return {
        adapter,
        peft: { dir: peftDir, weights: peft.weights, config: peft.config },
        step: result.step,
        resumedFrom: result.resumedFrom,
        stopped: result.stopped,
        examples: examples.length,
        skipped,
        firstLoss: result.history[0]?.loss ?? Number.NaN,
        finalLoss: result.history.at(-1)?.loss ?? Number.NaN,
      };
    } finally {
      trainer.optimizer.dispose();
      disposeLora(lora);
    }
  } finally {
    disposeWeights(weights);
  }
}
