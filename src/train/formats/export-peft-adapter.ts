// Writes a trained LoRA adapter in Hugging Face PEFT's format (`adapter_model.safetensors` +
// `adapter_config.json`), loadable with `PeftModel.from_pretrained` on the HF llama/mistral/qwen2 base model.
//
// Layout: cai stores a: [in, r] and b: [r, out]; PEFT stores lora_A.weight [r, in] = aᵀ and lora_B.weight
// [out, r] = bᵀ, F32, named `base_model.model.model.layers.{i}.{self_attn|mlp}.{q_proj…}.lora_{A|B}.weight`.
// PEFT's scaling lora_alpha / r equals cai's alpha / rank, so the update B·A·scale is the same.
//
// RoPE permutation: llama.cpp's converter (convert_hf_to_gguf.py, LlamaModel.permute; also applied to LoRA B
// by convert_lora_to_gguf.py) reorders the output rows of q_proj and k_proj of `llama`/`mistral` models so
// GGML's "normal" RoPE pairs (x[2i], x[2i+1]) — HF pairs (x[i], x[i + d/2]) within each head. The trainer
// works in GGUF order, so for these architectures lora_B of q_proj/k_proj is un-permuted back to HF row
// order here. `qwen2` GGUFs use neox RoPE and are not permuted.
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import type * as tf from "@tensorflow/tfjs-core";
import { CaiError } from "../../errors/cai-error.js";
import { type LoraAdapter, type LoraTarget, loraTargets } from "../model/lora.js";
import type { ModelConfig } from "../model/model-config.js";
import { type SafetensorsTensorSpec, writeSafetensors } from "./safetensors.js";

/** The HF module name of each cai (GGUF) LoRA target, with the submodule of the decoder layer holding it. */
export const peftModuleNames: Readonly<
  Record<LoraTarget, { readonly parent: string; readonly name: string }>
> = {
  attn_q: { parent: "self_attn", name: "q_proj" },
  attn_k: { parent: "self_attn", name: "k_proj" },
  attn_v: { parent: "self_attn", name: "v_proj" },
  attn_output: { parent: "self_attn", name: "o_proj" },
  ffn_gate: { parent: "mlp", name: "gate_proj" },
  ffn_up: { parent: "mlp", name: "up_proj" },
  ffn_down: { parent: "mlp", name: "down_proj" },
};

/** File names PEFT reads from an adapter directory. */
export const peftAdapterFiles = {
  weights: "adapter_model.safetensors",
  config: "adapter_config.json",
} as const;

/**
 * Options of {@link writePeftAdapter}. The model fields are those of the base model's {@link ModelConfig},
 * so `{ ...weights.config, baseModelName }` will do; the head counts are needed to undo llama.cpp's Q/K
 * permutation for `llama`/`mistral`.
 */
export interface PeftAdapterOptions extends Pick<ModelConfig, "architecture" | "headCount" | "headCountKv"> {
  /** `base_model_name_or_path`, e.g. `Qwen/Qwen2.5-0.5B`. Default null. */
  readonly baseModelName?: string;
  /** `lora_dropout` recorded in the config (inference ignores it). Default 0. */
  readonly loraDropout?: number;
}

/** The `adapter_config.json` PEFT reads for a causal-LM LoRA. */
export interface PeftAdapterConfig {
  readonly peft_type: "LORA";
  readonly task_type: "CAUSAL_LM";
  readonly r: number;
  readonly lora_alpha: number;
  readonly lora_dropout: number;
  readonly target_modules: readonly string[];
  readonly bias: "none";
  readonly fan_in_fan_out: false;
  readonly base_model_name_or_path: string | null;
  readonly inference_mode: true;
  readonly use_rslora: false;
  readonly modules_to_save: null;
  readonly init_lora_weights: true;
  readonly layers_to_transform: null;
  readonly revision: null;
}

/** The PEFT name prefix of target `target` in decoder layer `layer`, e.g. `...layers.0.self_attn.q_proj`. */
export function peftModulePath(layer: number, target: LoraTarget): string {
  const { parent, name } = peftModuleNames[target];
  return `base_model.model.model.layers.${layer}.${parent}.${name}`;
}

/** The `adapter_config.json` content for `lora`. */
export function peftAdapterConfig(
  lora: LoraAdapter,
  options: Pick<PeftAdapterOptions, "baseModelName" | "loraDropout"> = {},
): PeftAdapterConfig {
  return {
    peft_type: "LORA",
    task_type: "CAUSAL_LM",
    r: lora.rank,
    lora_alpha: lora.alpha,
    lora_dropout: options.loraDropout ?? 0,
    target_modules: loraTargets.filter((t) => lora.targets.includes(t)).map((t) => peftModuleNames[t].name),
    bias: "none",
    fan_in_fan_out: false,
    base_model_name_or_path: options.baseModelName ?? null,
    inference_mode: true,
    use_rslora: false,
    modules_to_save: null,
    init_lora_weights: true,
    layers_to_transform: null,
    revision: null,
  };
}

/**
 * For each HF output row, the GGUF row it was moved to by llama.cpp's `permute(w, n_head, n_head_kv)`:
 * within a head of size d, HF row j·d/2 + i is GGUF row 2i + j (i < d/2, j ∈ {0, 1}).
 */
export function ggufRowOfHfRow(rows: number, heads: number): Int32Array {
  const headDim = rows / heads;
  if (!Number.isInteger(headDim) || headDim % 2 !== 0)
    throw new CaiError(`cannot undo the RoPE permutation of ${rows} rows over ${heads} heads`);
  const half = headDim / 2;
  const map = new Int32Array(rows);
  for (let h = 0; h < heads; h += 1)
    for (let j = 0; j < 2; j += 1)
      for (let i = 0; i < half; i += 1) map[h * headDim + j * half + i] = h * headDim + 2 * i + j;
  return map;
}

/**
 * The values of `t`ᵀ (t is [rows, cols], the result [cols, rows]) row-major; with `rowSource`, result row k is
 * taken from column rowSource[k] of t.
 */
function transposed(t: tf.Tensor2D, values: Float32Array, rowSource?: Int32Array): Float32Array {
  const [rows, cols] = t.shape;
  const out = new Float32Array(rows * cols);
  for (let k = 0; k < cols; k += 1) {
    const c = rowSource ? (rowSource[k] ?? k) : k;
    for (let r = 0; r < rows; r += 1) out[k * rows + r] = values[r * cols + c] ?? 0;
  }
  return out;
}

/**
 * The PEFT tensors of `lora` in a deterministic order (layer, then {@link loraTargets} order, then A before
 * B), in PyTorch layout and HF row order. Reads the variables now, so they may keep training afterwards.
 */
export async function peftAdapterTensors(
  lora: LoraAdapter,
  options: Pick<PeftAdapterOptions, "architecture" | "headCount" | "headCountKv">,
): Promise<SafetensorsTensorSpec[]> {
  const permuted = options.architecture === "llama" || options.architecture === "mistral";
  const tensors: SafetensorsTensorSpec[] = [];
  for (const [layer, block] of lora.blocks.entries())
    for (const target of loraTargets) {
      const pair = block[target];
      if (!pair) continue;
      const [inputs, rank] = pair.a.shape;
      const outputs = pair.b.shape[1];
      const heads =
        target === "attn_q" ? options.headCount : target === "attn_k" ? options.headCountKv : undefined;
      const rowSource = permuted && heads !== undefined ? ggufRowOfHfRow(outputs, heads) : undefined;
      const prefix = peftModulePath(layer, target);
      const [a, b] = await Promise.all([pair.a.data<"float32">(), pair.b.data<"float32">()]);
      tensors.push({ name: `${prefix}.lora_A.weight`, shape: [rank, inputs], data: transposed(pair.a, a) });
      tensors.push({
        name: `${prefix}.lora_B.weight`,
        shape: [outputs, rank],
        data: transposed(pair.b, b, rowSource),
      });
    }
  return tensors;
}

/**
 * Writes `lora` as a PEFT LoRA adapter into `dir` (created if missing): `adapter_model.safetensors` (F32)
 * and `adapter_config.json`. Load it with `PeftModel.from_pretrained(base, dir)` on the HF model the GGUF
 * base was converted from. Returns the two paths and the tensor count.
 */
export async function writePeftAdapter(
  dir: string,
  lora: LoraAdapter,
  options: PeftAdapterOptions,
): Promise<{ weights: string; config: string; tensors: number }> {
  const tensors = await peftAdapterTensors(lora, options);
  await mkdir(dir, { recursive: true });
  const weights = path.join(dir, peftAdapterFiles.weights);
  const config = path.join(dir, peftAdapterFiles.config);
  await writeSafetensors(weights, tensors, { format: "pt" });
  await writeFile(config, `${JSON.stringify(peftAdapterConfig(lora, options), null, 2)}\n`);
  return { weights, config, tensors: tensors.length };
}
