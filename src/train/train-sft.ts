// `cai train sft` as a library call: LoRA supervised fine-tuning of a GGUF base model on chat conversations
// (TRL's conversational `{messages}` JSONL, what `cai export --format sft` writes), tokenised with the
// model's own chat template exactly as inference renders it (the answer followed by the template's
// end-of-turn token, so the model learns to stop), then exported as a GGUF adapter (for
// llama.cpp / cai) and a PEFT adapter (for Hugging Face).
//
// Batches: sequences of one micro-batch are right-padded to the longest with loss mask 0. Attention is
// causal, so padding after a sequence changes none of its log-probabilities: the loss is exactly that of
// the unpadded batch.
import { mkdir } from "node:fs/promises";
import { readJsonLines } from "../data/jsonl-file.js";
import { CaiError } from "../errors/cai-error.js";
import { InputFileError } from "../errors/input-file-error.js";
import type { ChatMessage } from "../models/model.js";
import { sftConversationOf } from "./data/chat-rows.js";
import { sftExampleFromMessages } from "./data/chat-tokens.js";
import { type GgufModelTensorType, writeGgufModel } from "./formats/export-gguf-model.js";
import { disposeMerged, mergeLora } from "./formats/merge-lora.js";
import type { TrainSetting } from "./loop/checkpoint.js";
import { evaluate, sftObjective, type TrainObjective } from "./loop/train-loop.js";
import {
  type AdapterOutputs,
  fitLength,
  freshAdapterPath,
  inputSettings,
  loadRunData,
  runPlan,
  runTrainLoop,
  type Tokenizer,
  type TrainRunOptions,
  type TrainRunResult,
  writeAdapterOutputs,
} from "./loop/training-run.js";
import { initTrainingBackend } from "./model/backend.js";
import {
  createFullModel,
  disposeFullModel,
  fullModelVariables,
  fullSftObjective,
} from "./model/full-model.js";
import { createLora, disposeLora, dropoutSeed, loraTargets, withLoraDropout } from "./model/lora.js";
import { disposeWeights, loadWeights, type TransformerWeights } from "./model/weights.js";
import { AdamW, createSftTrainer, type SftExample, sftLoss } from "./objectives/sft.js";

/**
 * Options of {@link trainSft}. `data` (and `evalData`) hold `{"messages": [...]}` rows, each ending with
 * the assistant message to learn. `out` receives `adapter-*.gguf` and `peft/`, or with `full` a model.
 * Default learning rate 1e-4 (LoRA), 1e-5 (full).
 */
export interface TrainSftOptions extends TrainRunOptions {
  /** Train every weight instead of a LoRA adapter, and write a whole GGUF model. Default false. */
  readonly full?: boolean;
  /** Tensor type of the model `full` or `merge` writes (norms stay F32). Default F32. */
  readonly fullType?: GgufModelTensorType;
  /** LoRA: also write the base with the adapter folded in, as a GGUF model. Default false. */
  readonly merge?: boolean;
}

/** What {@link trainSft} produced. */
export interface TrainSftResult extends TrainRunResult {
  /** The file written: the GGUF adapter, or with `full` the GGUF model. */
  readonly output: string;
  /** LoRA: the GGUF adapter (a new file name on every run: llama.cpp caches adapters by path). */
  readonly adapter?: string;
  /** LoRA: the PEFT adapter directory and its two files. */
  readonly peft?: AdapterOutputs["peft"];
  /** Full, or LoRA with `merge`: the fine-tuned GGUF model. */
  readonly model?: string;
  /** Conversations trained on. */
  readonly examples: number;
  /** The held-out loss before and after this run's updates (with `evalData`). */
  readonly evalLoss?: { readonly start: number; readonly end: number };
}

/** The conversation of one JSONL row (the layouts of {@link sftConversationOf}), or an InputFileError. */
export function conversationOfRow(file: string, line: number, value: unknown): ChatMessage[] {
  return sftConversationOf(file, line, value);
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

/** Reads, tokenises and length-checks the conversations of `file`. */
async function loadExamples(
  file: string,
  tokenizer: Tokenizer,
  maxLength: number,
  warn: (message: string) => void,
): Promise<{ examples: SftExample[]; skipped: number }> {
  const rows = await readJsonLines(file);
  if (rows.length === 0) throw new InputFileError(file, "it holds no conversations");
  const conversations = rows.map(({ line, value }) => ({
    line,
    messages: conversationOfRow(file, line, value),
  }));
  const examples: SftExample[] = [];
  let skipped = 0;
  for (const { line, messages } of conversations) {
    let example: SftExample;
    try {
      example = sftExampleFromMessages(tokenizer.renderer, messages, { endOfTurn: tokenizer.endOfTurn });
    } catch (error) {
      if (!CaiError.isInstance(error)) throw error;
      throw new InputFileError(file, error.message, { line }, { cause: error });
    }
    const fitted = fitLength(example, maxLength);
    if (fitted === undefined) {
      warn(`${file}:${line}: skipped, the answer starts after ${maxLength} tokens`);
      skipped += 1;
      continue;
    }
    if (fitted !== example) warn(`${file}:${line}: cut to ${maxLength} tokens`);
    examples.push(fitted);
  }
  if (examples.length === 0) throw new InputFileError(file, "no conversation fits --max-length");
  return { examples, skipped };
}

/** What SFT trains — a LoRA adapter or every weight — with its objective and how to write the result. */
interface Trainee {
  readonly objective: TrainObjective<SftExample>;
  readonly settings: Record<string, TrainSetting>;
  write(step: number): Promise<{ adapter?: AdapterOutputs; model?: string }>;
  dispose(): void;
}

function loraTrainee(
  weights: TransformerWeights,
  options: TrainSftOptions,
  lr: number,
  seed: number,
): Trainee {
  const rank = options.rank ?? 8;
  const alpha = options.alpha ?? 16;
  const targets = options.targets ?? loraTargets;
  const dropout = options.dropout ?? 0;
  const lora = createLora(weights, { rank, alpha, seed, targets, dropout });
  const trainer = createSftTrainer(weights, lora, { learningRate: lr });
  return {
    objective: {
      ...sftObjective(trainer),
      loss: (batch, context) => {
        const loss = () => sftLoss(weights, lora, padBatch(batch));
        if (context === undefined) return loss();
        return withLoraDropout(dropout, dropoutSeed(seed, context.step, context.microBatch), loss);
      },
    },
    settings: { objective: "sft-lora", rank, alpha, dropout, targets: [...targets].sort().join(",") },
    write: async (step) => {
      const adapter = await writeAdapterOutputs(options.out, lora, weights.config, step, options);
      if (!options.merge) return { adapter };
      const merged = mergeLora(weights, lora);
      try {
        const model = await freshAdapterPath(options.out, step, "model");
        await writeGgufModel(model, merged, options.base, { tensorType: options.fullType ?? "F32" });
        return { adapter, model };
      } finally {
        disposeMerged(merged, weights);
      }
    },
    dispose: () => {
      trainer.optimizer.dispose();
      disposeLora(lora);
    },
  };
}

function fullTrainee(weights: TransformerWeights, options: TrainSftOptions, lr: number): Trainee {
  const model = createFullModel(weights);
  const optimizer = new AdamW(fullModelVariables(model), { learningRate: lr });
  const tensorType = options.fullType ?? "F32";
  return {
    objective: {
      ...fullSftObjective(model, optimizer),
      loss: (batch) => sftLoss(model.weights, undefined, padBatch(batch)),
    },
    settings: { objective: "sft-full" },
    write: async (step) => {
      await mkdir(options.out, { recursive: true });
      const file = await freshAdapterPath(options.out, step, "model");
      await writeGgufModel(file, model.weights, options.base, { tensorType });
      return { model: file };
    },
    dispose: () => {
      optimizer.dispose();
      disposeFullModel(model);
    },
  };
}

/**
 * Trains `options.base` by SFT on the final assistant message of every conversation in `options.data` —
 * a LoRA adapter, or every weight with `full` — with checkpoints in `out/checkpoints` (with `resume`, a
 * rerun continues from the newest). Writes `out/adapter-step<N>-<time>.gguf` (a new name every time:
 * llama.cpp caches adapters by path) and `out/peft/`, or for `full` the model `out/model-step<N>-<time>.gguf`.
 */
export async function trainSft(options: TrainSftOptions): Promise<TrainSftResult> {
  if (options.full && options.merge)
    throw new CaiError("merge folds a LoRA adapter into the base; a full run already writes the whole model");
  const plan = runPlan(options, options.full ? 1e-5 : 1e-4);
  const { batchSize, lr, seed } = plan;

  await initTrainingBackend();
  const weights = await loadWeights(options.base);
  try {
    const { examples, held, skipped, maxLength, endOfTurn } = await loadRunData(
      options,
      weights.config,
      loadExamples,
    );
    const trainee = options.full
      ? fullTrainee(weights, options, lr)
      : loraTrainee(weights, options, lr, seed);
    try {
      const settings = {
        ...trainee.settings,
        ...(await inputSettings(options.base, { data: options.data, evalData: options.evalData })),
        lr,
        batchSize,
        seed,
        maxLength,
        endOfTurn: endOfTurn.join(","),
      };
      const { objective } = trainee;
      const evalStart = held.length > 0 ? evaluate(objective, held, batchSize) : undefined;
      const result = await runTrainLoop(options, plan, { objective, examples, held, settings });
      const written = await trainee.write(result.step);
      const output = written.adapter?.adapter ?? written.model ?? "";
      return {
        output,
        ...(written.adapter ? { adapter: written.adapter.adapter, peft: written.adapter.peft } : {}),
        ...(written.model ? { model: written.model } : {}),
        step: result.step,
        resumedFrom: result.resumedFrom,
        stopped: result.stopped,
        examples: examples.length,
        skipped,
        firstLoss: result.history[0]?.loss ?? Number.NaN,
        finalLoss: result.history.at(-1)?.loss ?? Number.NaN,
        ...(evalStart === undefined
          ? {}
          : { evalLoss: { start: evalStart, end: evaluate(objective, held, batchSize) } }),
      };
    } finally {
      trainee.dispose();
    }
  } finally {
    disposeWeights(weights);
  }
}
