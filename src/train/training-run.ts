// What every `cai train` objective shares around the training loop: the base model's tokenizer and chat
// template (from llama.cpp, so training sees the tokens inference sees), fitting examples to a length,
// the identity of the run's inputs (recorded in checkpoints so a resume with other inputs is refused), and
// the adapter files written at the end.
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { access, mkdir, stat } from "node:fs/promises";
import path from "node:path";
import { CaiError } from "../errors/cai-error.js";
import { LlamaLanguageModel } from "../models/llama/llama-language-model.js";
import type { LlamaPromptRenderer } from "../models/llama/llama-prompt.js";
import type { TrainSetting } from "./checkpoint.js";
import { writeGgufAdapter } from "./export-gguf-adapter.js";
import { writePeftAdapter } from "./export-peft-adapter.js";
import type { LoraAdapter } from "./lora.js";
import type { ModelConfig } from "./model-config.js";
import type { SftExample } from "./sft.js";

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

/** Writes `lora` as `out/adapter-step<N>-<time>.gguf` and `out/peft/`. */
export async function writeAdapterOutputs(
  out: string,
  lora: LoraAdapter,
  config: ModelConfig,
  step: number,
): Promise<AdapterOutputs> {
  await mkdir(out, { recursive: true });
  const adapter = await freshAdapterPath(out, step);
  await writeGgufAdapter(adapter, lora, config.architecture);
  const dir = path.join(out, "peft");
  const peft = await writePeftAdapter(dir, lora, { ...config, loraDropout: lora.dropout });
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
