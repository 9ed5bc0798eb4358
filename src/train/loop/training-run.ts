// What every `cai train` objective shares around the training loop: the base model's tokenizer and chat
// template (from llama.cpp, so training sees the tokens inference sees), fitting examples to a length,
// the identity of the run's inputs (recorded in checkpoints so a resume with other inputs is refused), and
// the adapter files written at the end.
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { access, mkdir, stat } from "node:fs/promises";
import path from "node:path";
import { CaiError } from "../../errors/cai-error.js";
import { LlamaLanguageModel } from "../../models/llama/llama-language-model.js";
import type { LlamaPromptRenderer } from "../../models/llama/llama-prompt.js";
import { writeGgufAdapter } from "../formats/export-gguf-adapter.js";
import { writePeftAdapter } from "../formats/export-peft-adapter.js";
import { resolvePeftBaseModel } from "../formats/peft-base-model.js";
import type { LoraAdapter, LoraTarget } from "../model/lora.js";
import type { ModelConfig } from "../model/model-config.js";
import type { SftExample } from "../objectives/sft.js";
import type { TrainSetting } from "./checkpoint.js";
import { type TrainLoopResult, type TrainObjective, type TrainProgress, trainLoop } from "./train-loop.js";

/** The base model's prompt renderer and end-of-turn tokens, open until `close()`. */
export interface Tokenizer {
  readonly renderer: LlamaPromptRenderer;
  /** The tokens the model writes to end its turn (learned after every answer). */
  readonly endOfTurn: readonly number[];
  close(): Promise<void>;
}

/** Opens `base` in llama.cpp for its tokenizer and chat template only (one thread, a small context). */
export async function openTokenizer(base: string): Promise<Tokenizer> {
  const model = await LlamaLanguageModel.load(base, {
    threads: 1,
    gpu: false,
    parallel: 1,
    contextSize: 256,
  });
  return {
    renderer: model.prompts,
    endOfTurn: model.prompts.endOfTurnTokens(),
    close: () => model.close(),
  };
}

/**
 * `example` cut to `maxLength` tokens: itself when it fits, the cut example when some learned token is
 * left, undefined when none is (the answer starts too late).
 */
export function fitLength(example: SftExample, maxLength: number): SftExample | undefined {
  if (example.tokens.length <= maxLength) return example;
  const cut = { tokens: example.tokens.slice(0, maxLength), lossMask: example.lossMask.slice(0, maxLength) };
  return cut.lossMask.slice(1).includes(1) ? cut : undefined;
}

/** The SHA-256 of a file's bytes, hex (streamed: data files can be large). */
export async function fileSha256(file: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

/**
 * Settings that identify a run's inputs: the base model (absolute path and size: hashing a large model
 * file on every start would cost seconds) and every data file (by content hash), by the given names.
 */
export async function inputSettings(
  base: string,
  data: Readonly<Record<string, string | undefined>>,
): Promise<Record<string, TrainSetting>> {
  const settings: Record<string, TrainSetting> = {
    base: path.resolve(base),
    baseBytes: (await stat(base)).size,
  };
  for (const [name, file] of Object.entries(data))
    settings[name] = file === undefined ? null : await fileSha256(file);
  return settings;
}

/** A path in `dir` no file has: `<stem>-step<N>-<UTC time>[-k].gguf`. */
export async function freshAdapterPath(dir: string, step: number, stem = "adapter"): Promise<string> {
  const stamp = new Date()
    .toISOString()
    .replace(/[-:]/g, "")
    .replace(/\.\d+Z$/, "Z");
  const base = `${stem}-step${String(step).padStart(6, "0")}-${stamp}`;
  for (let k = 0; ; k += 1) {
    const candidate = path.join(dir, `${base}${k === 0 ? "" : `-${k}`}.gguf`);
    try {
      await access(candidate);
    } catch {
      return candidate;
    }
  }
}

/** The adapter files a LoRA run leaves in its output directory. */
export interface AdapterOutputs {
  /** The GGUF adapter (a new file name on every save: llama.cpp caches adapters by path). */
  readonly adapter: string;
  /** The PEFT adapter directory and its two files. */
  readonly peft: { readonly dir: string; readonly weights: string; readonly config: string };
}

/**
 * Writes `lora` as `out/adapter-step<N>-<time>.gguf` and `out/peft/`, whose config names the base model
 * `run.baseModelId` or the one the GGUF `run.base` names (see {@link resolvePeftBaseModel}).
 */
export async function writeAdapterOutputs(
  out: string,
  lora: LoraAdapter,
  config: ModelConfig,
  step: number,
  run: Pick<TrainRunOptions, "base" | "baseModelId" | "onWarning">,
): Promise<AdapterOutputs> {
  await mkdir(out, { recursive: true });
  const adapter = await freshAdapterPath(out, step);
  await writeGgufAdapter(adapter, lora, config.architecture);
  const dir = path.join(out, "peft");
  const baseModelName = await resolvePeftBaseModel(run.base, run.baseModelId, run.onWarning ?? (() => {}));
  const peft = await writePeftAdapter(dir, lora, {
    ...config,
    loraDropout: lora.dropout,
    ...(baseModelName === undefined ? {} : { baseModelName }),
  });
  return { adapter, peft: { dir, weights: peft.weights, config: peft.config } };
}

/** Throws unless `lr` is a positive finite number. */
export function checkLearningRate(lr: number): number {
  if (!(lr > 0 && Number.isFinite(lr))) throw new CaiError(`the learning rate must be positive, not ${lr}`);
  return lr;
}

/** The longest sequence: `requested` or the model's context, validated. */
export function maxLengthOf(requested: number | undefined, config: ModelConfig): number {
  const maxLength = requested ?? config.contextLength;
  if (!(Number.isInteger(maxLength) && maxLength >= 2))
    throw new CaiError(`the maximum length must be a whole number ≥ 2, not ${maxLength}`);
  return maxLength;
}

/** Options every `cai train` objective takes (each adds its own). */
export interface TrainRunOptions {
  /** The base model, a GGUF file (F32, F16, BF16 or Q8_0). */
  readonly base: string;
  /** The training data, a JSONL file (the objective says which layouts). */
  readonly data: string;
  /** Output directory: `checkpoints/` and what the objective writes (with `resume`, a rerun continues). */
  readonly out: string;
  /** Held-out data in the same layout: evaluated at the start, every `evalEvery` updates and at the end. */
  readonly evalData?: string;
  /** Evaluate every this many updates. Default: a tenth of the steps. */
  readonly evalEvery?: number;
  /** LoRA: the projections to adapt. Default all seven. */
  readonly targets?: readonly LoraTarget[];
  /** LoRA dropout on the updates' inputs while training. Default 0. */
  readonly dropout?: number;
  /** LoRA rank. Default 8. */
  readonly rank?: number;
  /** LoRA alpha (the update is scaled by alpha / rank). Default 16. */
  readonly alpha?: number;
  /** Optimizer updates in total (counting those of a resumed run). Default 100. */
  readonly steps?: number;
  /** Examples per forward/backward pass (micro-batch). Default 1. */
  readonly batchSize?: number;
  /** Micro-batches whose gradients are averaged into one update (batch size × this per update). Default 1. */
  readonly gradAccumulation?: number;
  /** Peak learning rate (warmup, then cosine decay). Default: the objective's. */
  readonly lr?: number;
  /** Seed of the adapter's initialisation, dropout and the data order. Default 0. */
  readonly seed?: number;
  /** Longest sequence in tokens; longer ones are cut, skipped if no learned token remains. Default: the context. */
  readonly maxLength?: number;
  /** Checkpoint every this many updates (and at the end, and when stopped). Default 50. */
  readonly checkpointEvery?: number;
  /** Continue from the checkpoints in `out` (default false: a directory with checkpoints is refused). */
  readonly resume?: boolean;
  /** Aborting it checkpoints and ends the run after the update in flight (the outputs are still written). */
  readonly stop?: AbortSignal;
  readonly onProgress?: (progress: TrainProgress) => void;
  /**
   * The PEFT adapter's `base_model_name_or_path` (a Hugging Face repo id or a local path), for the
   * objectives that write one (sft, dpo). Default: the model the base GGUF's metadata names (see
   * `peftBaseModelOfMetadata`), else null with a warning.
   */
  readonly baseModelId?: string;
  /** Non-fatal problems (skipped or truncated rows, a damaged checkpoint skipped). Default: ignored. */
  readonly onWarning?: (message: string) => void;
}

/** The hyper-parameters of a run after defaults. */
export interface RunPlan {
  readonly steps: number;
  readonly batchSize: number;
  readonly lr: number;
  readonly seed: number;
}

/** The defaults of {@link TrainRunOptions}' loop settings, `defaultLr` being the objective's. */
export function runPlan(options: TrainRunOptions, defaultLr: number): RunPlan {
  return {
    steps: options.steps ?? 100,
    batchSize: options.batchSize ?? 1,
    lr: checkLearningRate(options.lr ?? defaultLr),
    seed: options.seed ?? 0,
  };
}

/**
 * {@link trainLoop} as every objective runs it: warmup over a tenth of the steps (at most 10), clipping
 * at norm 1, checkpoints in `out/checkpoints` recording `settings`, and `held` evaluated every
 * `evalEvery` updates when there is any.
 */
export function runTrainLoop<E>(
  options: TrainRunOptions,
  plan: RunPlan,
  run: {
    readonly objective: TrainObjective<E>;
    readonly examples: readonly E[];
    readonly held: readonly E[];
    readonly settings: Readonly<Record<string, TrainSetting>>;
  },
): Promise<TrainLoopResult> {
  const { steps, batchSize, lr, seed } = plan;
  const evalEvery = options.evalEvery ?? Math.max(1, Math.floor(steps / 10));
  const gradAccumulation = options.gradAccumulation ?? 1;
  return trainLoop({
    objective: run.objective,
    examples: run.examples,
    ...(run.held.length > 0 ? { evalExamples: run.held, evalEvery } : {}),
    batchSize,
    gradAccumulation,
    totalSteps: steps,
    learningRate: { peak: lr, warmupSteps: Math.min(10, Math.floor(steps / 10)) },
    maxGradNorm: 1,
    seed,
    settings: { ...run.settings, gradAccumulation },
    resume: options.resume ?? false,
    checkpointEvery: options.checkpointEvery ?? 50,
    checkpointDir: path.join(options.out, "checkpoints"),
    ...(options.stop ? { stop: options.stop } : {}),
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    ...(options.onWarning ? { onWarning: options.onWarning } : {}),
  });
}

/** A run's tokenised data. */
export interface RunData<E> {
  readonly examples: E[];
  /** Held-out examples (empty without `evalData`). */
  readonly held: E[];
  /** Training rows skipped (too long). */
  readonly skipped: number;
  readonly maxLength: number;
  /** The end-of-turn tokens learned after every answer. */
  readonly endOfTurn: readonly number[];
}

/** Reads one data file into examples, tokenised with `tokenizer`, cut to `maxLength`. */
export type DataLoader<E> = (
  file: string,
  tokenizer: Tokenizer,
  maxLength: number,
  warn: (message: string) => void,
) => Promise<{ examples: E[]; skipped: number }>;

/**
 * `options.data` and `options.evalData` read by `load`, with the base model's tokenizer (opened for this
 * and closed) and the length limit (`options.maxLength`, default the context of `config`).
 */
export async function loadRunData<E>(
  options: TrainRunOptions,
  config: ModelConfig,
  load: DataLoader<E>,
): Promise<RunData<E>> {
  const warn = options.onWarning ?? (() => {});
  const maxLength = maxLengthOf(options.maxLength, config);
  const tokenizer = await openTokenizer(options.base);
  try {
    const { examples, skipped } = await load(options.data, tokenizer, maxLength, warn);
    const held =
      options.evalData === undefined
        ? []
        : (await load(options.evalData, tokenizer, maxLength, warn)).examples;
    return { examples, held, skipped, maxLength, endOfTurn: tokenizer.endOfTurn };
  } finally {
    await tokenizer.close();
  }
}

/** What every objective's run reports. */
export interface TrainRunResult {
  /** The file or directory written (adapter, model or reward model). */
  readonly output: string;
  /** Updates done (including those restored from a checkpoint). */
  readonly step: number;
  /** The step this run resumed from (0: fresh). */
  readonly resumedFrom: number;
  /** True when `stop` ended the run early. */
  readonly stopped: boolean;
  /** Training rows skipped (too long). */
  readonly skipped: number;
  /** Loss of the first and of the last update (NaN when no update was done). */
  readonly firstLoss: number;
  readonly finalLoss: number;
}
