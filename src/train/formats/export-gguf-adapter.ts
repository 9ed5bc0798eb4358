// Writes a trained LoRA adapter as a GGUF file llama.cpp (node-llama-cpp) loads on top of its base model.
// Layout (FACTS.md): for a base tensor with ne=[in, out], lora_a has ne=[in, r] and lora_b ne=[r, out], F32.
import * as tf from "@tensorflow/tfjs-core";
import { gguf } from "../../gguf/gguf-value.js";
import { type GgufTensorSpec, writeGguf } from "../../gguf/writer.js";
import { type LoraAdapter, loraTargets } from "../model/lora.js";

/** Options of {@link writeGgufAdapter}. */
export interface GgufAdapterOptions {
  /** `general.name`. Default `cai-lora-r<rank>`. */
  readonly name?: string;
}

/**
 * Writes `lora` to `path` as a GGUF LoRA adapter for a base model of architecture `baseArch` (its
 * `general.architecture`, e.g. `llama` or `qwen2`; llama.cpp refuses a mismatch). The update's scale is
 * carried by `adapter.lora.alpha`: llama.cpp multiplies B·A by (user scale)·alpha/r, the trainer by
 * alpha/r, so loading it at scale 1 reproduces the trainer's model.
 *
 * llama.cpp caches adapters by path: write every new adapter to a new path.
 */
export async function writeGgufAdapter(
  path: string,
  lora: LoraAdapter,
  baseArch: string,
  options: GgufAdapterOptions = {},
): Promise<{ tensors: number }> {
  const tensors: GgufTensorSpec[] = [];
  lora.blocks.forEach((block, index) => {
    for (const target of loraTargets) {
      const pair = block[target];
      if (!pair) continue;
      const [inputs, rank] = pair.a.shape;
      const outputs = pair.b.shape[1];
      // a [in, r] row-major → GGUF ne=[in, r] wants in fastest, i.e. a row-major [r, in]: aᵀ; likewise
      // b [r, out] → ne=[r, out] is a row-major [out, r]: bᵀ. Read now: the variables may train on.
      tensors.push({
        name: `blk.${index}.${target}.weight.lora_a`,
        shape: [inputs, rank],
        type: "F32",
        data: transposedValues(pair.a),
      });
      tensors.push({
        name: `blk.${index}.${target}.weight.lora_b`,
        shape: [rank, outputs],
        type: "F32",
        data: transposedValues(pair.b),
      });
    }
  });
  await writeGguf(path, {
    metadata: [
      ["general.architecture", gguf.str(baseArch)],
      ["general.type", gguf.str("adapter")],
      ["general.name", gguf.str(options.name ?? `cai-lora-r${lora.rank}`)],
      ["adapter.type", gguf.str("lora")],
      ["adapter.lora.alpha", gguf.f32(lora.alpha)],
    ],
    tensors,
  });
  return { tensors: tensors.length };
}

/** The values of a 2-D tensor's transpose, row-major. */
function transposedValues(t: tf.Tensor2D): Float32Array {
  const transposed = tf.transpose(t);
  try {
    return Float32Array.from(transposed.dataSync());
  } finally {
    transposed.dispose();
  }
}
