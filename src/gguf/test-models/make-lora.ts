// Writes a LoRA adapter with random weights for a given base model, in the GGUF layout llama.cpp loads
// (FACTS.md): for a base weight with ne=[in, out], lora_a has ne=[in, r] and lora_b ne=[r, out].

import { SeededRandom } from "../../random/seeded-random.js";
import { gguf, plainValue } from "../gguf-value.js";
import { loraTargets } from "../lora-layout.js";
import { GgufFile } from "../reader.js";
import { type GgufTensorSpec, writeGguf } from "../writer.js";

export { loraTargets };

/** Options of {@link makeRandomLora}. */
export interface MakeRandomLoraOptions {
  base: string;
  rank: number;
  seed?: number;
  /** LoRA alpha; the update is scaled by alpha / rank. Default: rank (scale 1). */
  alpha?: number;
  out: string;
}

/**
 * Writes a random adapter for every target weight of `base`. Unlike a training initialisation (B = 0,
 * no change), both factors are random, so the adapter visibly changes the model's outputs.
 */
export async function makeRandomLora(options: MakeRandomLoraOptions): Promise<{ tensors: number }> {
  const base = await GgufFile.open(options.base);
  try {
    const architecture = String(plainValue(base.metadata.get("general.architecture") ?? gguf.str("llama")));
    const rank = options.rank;
    const seed = options.seed ?? 0;
    const tensors: GgufTensorSpec[] = [];
    for (const info of base.tensors) {
      const match = /^blk\.\d+\.(\w+)\.weight$/.exec(info.name);
      if (!match || !(loraTargets as readonly string[]).includes(match[1] ?? "")) continue;
      const [inputs, outputs] = info.shape;
      if (inputs === undefined || outputs === undefined) continue;
      const stem = info.name.slice(0, -".weight".length);
      const tensorSeed = seed * 1000003 + tensors.length * 7919;
      tensors.push({
        name: `${stem}.weight.lora_a`,
        shape: [inputs, rank],
        type: "F32",
        data: () => new SeededRandom(tensorSeed).normals(inputs * rank, 1 / Math.sqrt(inputs)),
      });
      tensors.push({
        name: `${stem}.weight.lora_b`,
        shape: [rank, outputs],
        type: "F32",
        data: () => new SeededRandom(tensorSeed + 1).normals(rank * outputs, 0.5 / Math.sqrt(rank)),
      });
    }
    await writeGguf(options.out, {
      metadata: [
        ["general.architecture", gguf.str(architecture)],
        ["general.type", gguf.str("adapter")],
        ["general.name", gguf.str(`cai-random-lora-r${rank}-seed${seed}`)],
        ["adapter.type", gguf.str("lora")],
        ["adapter.lora.alpha", gguf.f32(options.alpha ?? rank)],
      ],
      tensors,
    });
    return { tensors: tensors.length };
  } finally {
    await base.close();
  }
}
