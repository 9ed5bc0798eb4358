// Writes fully trained weights as a complete GGUF model llama.cpp (node-llama-cpp) loads on its own: the
// base file's metadata (architecture, hyper-parameters, tokenizer, chat template …) copied key by key, and
// its tensors, in the base's order and under its names, with the trained values.
//
// Layout: the trainer holds projections as [in, out] (weights.ts); GGUF ne=[in, out] is the row-major
// [out, in], so each projection is transposed back. The token embedding [vocab, dim] is already GGUF's
// ne=[dim, vocab]; norms and biases are 1-D. A tied model (no `output.weight` in the base) gets only
// `token_embd.weight`, as the base had: llama.cpp reads the head from it.
import * as tf from "@tensorflow/tfjs-core";
import { CaiError } from "../../errors/cai-error.js";
import { type GgufFile, type GgufValue, openGguf } from "../../gguf/index.js";
import { type GgufTensorSpec, writeGguf } from "../../gguf/writer.js";
import { type NamedWeight, namedWeights } from "../model/full-model.js";
import { type ModelConfig, readModelConfig } from "../model/model-config.js";
import type { TransformerWeights } from "../model/weights.js";
import { BaseModelMismatchError } from "./base-model-mismatch-error.js";

/** Tensor types of an exported model's matrices. */
export type GgufModelTensorType = "F32" | "F16";

/** Options of {@link writeGgufModel}. */
export interface GgufModelOptions {
  /**
   * Type of the 2-D tensors (projections, embedding, head). Default F32 (what the trainer computed, exactly).
   * F16 halves the file; llama.cpp then also rounds activations to F16 in its matmuls. Norms and biases
   * are always F32, as llama.cpp expects.
   */
  readonly tensorType?: GgufModelTensorType;
  /** `general.name`. Default: the base's. */
  readonly name?: string;
}

/** What {@link writeGgufModel} wrote. */
export interface GgufModelExport {
  /** Tensors written (the base's count). */
  readonly tensors: number;
  /** Values written over all tensors. */
  readonly parameters: number;
}

/** llama.cpp's `general.file_type` for a model whose matrices are all of one type (LLAMA_FTYPE_*). */
const fileTypes: Record<GgufModelTensorType, number> = { F32: 0, F16: 1 };

/**
 * Writes `weights` (trained: e.g. `createFullModel(…).weights`; or as loaded) to `path` as a GGUF model
 * built on `base`, the GGUF file (path, or an open file left open) the weights were loaded from: its
 * metadata is copied (`general.file_type` updated to the tensor type, `general.name` when given) and every
 * tensor it has is written with the trained values, in its order. The values are read at the call (a
 * copy of the model in JS memory while it writes), so training may go on while the file is written.
 * Atomic: written to a temporary file renamed into place, so `path` never holds a partial model.
 *
 * Throws BaseModelMismatchError when `base` does not fit the weights (another architecture, shape or
 * tensor set), CaiError when the weights of a tied model no longer tie (head trained apart from the
 * embedding: train with `createFullModel`, which keeps them one parameter).
 */
export async function writeGgufModel(
  path: string,
  weights: TransformerWeights,
  base: string | GgufFile,
  options: GgufModelOptions = {},
): Promise<GgufModelExport> {
  const tensorType = options.tensorType ?? "F32";
  if (!(tensorType in fileTypes))
    throw new CaiError(`a model can be exported as F32 or F16, not ${String(tensorType)}`);
  if (weights.config.tiedEmbeddings && !weights.tiedHead) checkStillTied(weights);
  // Read every value now, before the first await, so training may go on while the file is written. The
  // copies live in JS memory (the model once more, in F32), the wasm heap holds one transposed tensor at most.
  const named = namedWeights(weights);
  const values = new Map(named.map((w) => [w.name, ggufValues(w)]));
  const file = typeof base === "string" ? await openGguf(base) : base;
  try {
    checkFits(file, weights, new Map(named.map((w) => [w.name, w])));
    const tensors = file.tensors.map(
      (info): GgufTensorSpec => ({
        name: info.name,
        shape: info.shape,
        type: info.shape.filter((n) => n !== 1).length <= 1 ? "F32" : tensorType,
        data: fixedTensors.has(info.name)
          ? () => file.readTensor(info.name)
          : (values.get(info.name) as Float32Array),
      }),
    );
    await writeGguf(path, { metadata: exportMetadata(file, tensorType, options.name), tensors });
    return { tensors: tensors.length, parameters: file.tensors.reduce((sum, t) => sum + t.elementCount, 0) };
  } finally {
    if (typeof base === "string") await file.close();
  }
}

/** The base's metadata in order, with the file type (and name) of the export. */
function exportMetadata(
  file: GgufFile,
  tensorType: GgufModelTensorType,
  name: string | undefined,
): Array<[string, GgufValue]> {
  const metadata: Array<[string, GgufValue]> = [];
  for (const [key, value] of file.metadata) {
    if (key === "general.file_type" && value.type !== "array" && typeof value.value === "number")
      metadata.push([key, { ...value, value: fileTypes[tensorType] } as GgufValue]);
    else if (key === "general.name" && name !== undefined)
      metadata.push([key, { type: "string", value: name }]);
    else metadata.push([key, value]);
  }
  if (name !== undefined && !file.metadata.has("general.name"))
    metadata.push(["general.name", { type: "string", value: name }]);
  return metadata;
}

/**
 * Tensors of a base model that are not weights the trainer trains, copied from the base as they are:
 * Llama 3's RoPE frequency factors (read into the config, see model-config.ts).
 */
const fixedTensors: ReadonlySet<string> = new Set(["rope_freqs.weight"]);

/** Whether two config values are equal (typed arrays element by element). */
function sameValue(a: unknown, b: unknown): boolean {
  if (a instanceof Float32Array && b instanceof Float32Array)
    return a.length === b.length && a.every((x, i) => Object.is(x, b[i]));
  return a === b;
}

/** Throws BaseModelMismatchError listing every way `file` does not fit `weights`. */
function checkFits(
  file: GgufFile,
  weights: TransformerWeights,
  byName: ReadonlyMap<string, NamedWeight>,
): void {
  const differences: string[] = [];
  let config: ModelConfig | undefined;
  try {
    config = readModelConfig(file);
  } catch (error) {
    throw new BaseModelMismatchError(file.path, [`it is not a trainable model: ${String(error)}`], {
      cause: error,
    });
  }
  for (const key of Object.keys(config) as Array<keyof ModelConfig>)
    if (!sameValue(config[key], weights.config[key]))
      differences.push(`${key}: base ${String(config[key])}, trained ${String(weights.config[key])}`);
  const inBase = new Set<string>();
  for (const info of file.tensors) {
    if (fixedTensors.has(info.name)) continue;
    inBase.add(info.name);
    const named = byName.get(info.name);
    if (named === undefined) {
      differences.push(`the base has tensor ${info.name}, the trained weights do not`);
      continue;
    }
    const expected = ggufShape(named);
    const stored = info.shape.filter((n, i) => n !== 1 || i < expected.length);
    if (stored.length !== expected.length || stored.some((n, i) => n !== expected[i]))
      differences.push(`${info.name}: base [${info.shape.join(", ")}], trained [${expected.join(", ")}]`);
  }
  for (const name of byName.keys())
    if (!inBase.has(name)) differences.push(`the trained weights have ${name}, the base does not`);
  if (differences.length > 0) throw new BaseModelMismatchError(file.path, differences);
}

/** A weight's GGUF shape (ne order) from its trainer shape and layout. */
function ggufShape({ tensor, layout }: NamedWeight): number[] {
  return layout === "embedding" ? [...tensor.shape].reverse() : [...tensor.shape];
}

/** A weight's values in GGUF order (ne[0] fastest). */
function ggufValues({ tensor: t, layout }: NamedWeight): Float32Array {
  if (layout !== "projection") return Float32Array.from(t.dataSync());
  const transposed = tf.transpose(t);
  try {
    return Float32Array.from(transposed.dataSync());
  } finally {
    transposed.dispose();
  }
}

/**
 * Loaded weights of a tied model carry the head as a copy of the embedding; if that copy was changed apart
 * from the embedding, writing only `token_embd.weight` would silently drop it.
 */
function checkStillTied(weights: TransformerWeights): void {
  const difference = tf.tidy(
    () => tf.max(tf.abs(tf.sub(weights.output, tf.transpose(weights.tokenEmbedding)))).dataSync()[0] ?? 0,
  );
  if (difference !== 0)
    throw new CaiError(
      `the model ties its LM head to the token embedding, but the head differs from it by up to ${difference}; train it with createFullModel (full-model.ts), which keeps them one parameter`,
    );
}
