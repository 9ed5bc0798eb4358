// Reads a GGUF LoRA adapter back into the trainer's LoraAdapter: the inverse of export-gguf-adapter.ts, so
// a saved adapter (e.g. a reward model's) can be scored or trained further by the tfjs trainer.
//
// Layout (FACTS.md, as written by writeGgufAdapter): for a base projection with ne=[in, out],
// `blk.N.<target>.weight.lora_a` has ne=[in, r] (a row-major [r, in]: PyTorch's A) and `…lora_b` ne=[r, out]
// (a row-major [out, r]: PyTorch's B). The trainer keeps a [in, r] and b [r, out] (lora.ts), so both are
// transposed once here. `adapter.lora.alpha` carries the scale alpha / r; llama.cpp treats a missing or
// zero alpha as scale 1, and so does this reader (alpha = r).
import * as tf from "@tensorflow/tfjs-core";
import { type GgufFile, openGguf } from "../../gguf/index.js";
import { ModelLoadError } from "../../models/errors/model-load-error.js";
import {
  type LoraAdapter,
  type LoraPair,
  type LoraTarget,
  loraTargets,
  loraTargetWeights,
} from "../model/lora.js";
import type { TransformerWeights } from "../model/weights.js";

const tensorName = /^blk\.(\d+)\.(\w+)\.weight\.lora_([ab])$/;

/**
 * The LoRA adapter stored in the GGUF file at `path`, as trainable variables on the current tfjs backend,
 * for the base model `weights`. Validates what llama.cpp would: `general.type` adapter, `adapter.type`
 * lora, `general.architecture` equal to the base's, every tensor a known `blk.N.<target>.weight.lora_{a,b}`
 * of a block the base has, both factors present, one rank throughout, and shapes that fit the base's
 * projections. Throws {@link ModelLoadError} naming the file and the problem. Free the result with
 * `disposeLora`. Dropout is 0 (it is a training setting, not stored in the file).
 */
export async function readGgufAdapter(path: string, weights: TransformerWeights): Promise<LoraAdapter> {
  let file: GgufFile;
  try {
    file = await openGguf(path);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new ModelLoadError(path, `not a readable GGUF file (${reason})`, { cause: error });
  }
  try {
    return await readOpen(file, weights);
  } finally {
    await file.close();
  }
}

async function readOpen(file: GgufFile, weights: TransformerWeights): Promise<LoraAdapter> {
  const fail = (reason: string) => new ModelLoadError(file.path, reason);
  const meta = (key: string) => file.metadataValue(key);
  if (meta("general.type") !== "adapter")
    throw fail(`general.type is ${JSON.stringify(meta("general.type"))}, not "adapter"`);
  if (meta("adapter.type") !== "lora")
    throw fail(`adapter.type is ${JSON.stringify(meta("adapter.type"))}, not "lora"`);
  const arch = meta("general.architecture");
  if (arch !== weights.config.architecture)
    throw fail(
      `the adapter is for architecture ${JSON.stringify(arch)}, the base model is ${weights.config.architecture}`,
    );
  const storedAlpha = meta("adapter.lora.alpha");
  if (storedAlpha !== undefined && (typeof storedAlpha !== "number" || !(storedAlpha >= 0)))
    throw fail(`adapter.lora.alpha is ${JSON.stringify(storedAlpha)}, not a non-negative number`);

  // Group the tensors by (block, target) and check each against the base projection's [in, out].
  const found = new Map<string, { block: number; target: LoraTarget; a?: string; b?: string }>();
  let rank: number | undefined;
  for (const info of file.tensors) {
    const match = tensorName.exec(info.name);
    if (!match) throw fail(`tensor ${info.name} is not a LoRA factor blk.N.<target>.weight.lora_{a,b}`);
    const block = Number(match[1]);
    const target = match[2] as LoraTarget;
    const factor = match[3] as "a" | "b";
    if (!(loraTargets as readonly string[]).includes(target))
      throw fail(`tensor ${info.name} targets ${target}, not one of ${loraTargets.join(", ")}`);
    const base = weights.blocks[block];
    if (base === undefined)
      throw fail(`tensor ${info.name} is for block ${block}; the base model has ${weights.blocks.length}`);
    const [inputs, outputs] = base[loraTargetWeights[target]].shape;
    const shape = info.shape.filter((n, i) => n !== 1 || i < 2);
    const r = factor === "a" ? shape[1] : shape[0];
    const expected = factor === "a" ? [inputs, r] : [r, outputs];
    if (shape.length !== 2 || r === undefined || r < 1 || shape.some((n, i) => n !== expected[i]))
      throw fail(
        `tensor ${info.name} has shape [${info.shape.join(", ")}]; the base projection [${inputs}, ${outputs}] needs ${factor === "a" ? `[${inputs}, r]` : `[r, ${outputs}]`}`,
      );
    if (rank !== undefined && r !== rank)
      throw fail(`tensor ${info.name} has rank ${r}, others rank ${rank}; mixed ranks are not supported`);
    rank = r;
    const key = `${block}.${target}`;
    const entry = found.get(key) ?? { block, target };
    if (entry[factor] !== undefined) throw fail(`tensor ${info.name} appears twice`);
    entry[factor] = info.name;
    found.set(key, entry);
  }
  if (rank === undefined) throw fail("it holds no LoRA tensors");
  for (const entry of found.values())
    if (entry.a === undefined || entry.b === undefined)
      throw fail(`blk.${entry.block}.${entry.target} has lora_${entry.a === undefined ? "a" : "b"} missing`);

  const r = rank;
  const blocks: Partial<Record<LoraTarget, LoraPair>>[] = weights.blocks.map(() => ({}));
  const made: tf.Variable[] = [];
  try {
    for (const { block, target, a, b } of found.values()) {
      const [inputs, outputs] = (weights.blocks[block] as TransformerWeights["blocks"][number])[
        loraTargetWeights[target]
      ].shape;
      const aValues = await file.readTensor(a as string);
      const bValues = await file.readTensor(b as string);
      // Stored row-major [r, in] and [out, r]: transpose to the trainer's [in, r] and [r, out].
      const aVar = tf.variable(tf.tidy(() => tf.transpose(tf.tensor2d(aValues, [r, inputs]))));
      made.push(aVar);
      const bVar = tf.variable(tf.tidy(() => tf.transpose(tf.tensor2d(bValues, [outputs, r]))));
      made.push(bVar);
      (blocks[block] as Partial<Record<LoraTarget, LoraPair>>)[target] = { a: aVar, b: bVar };
    }
  } catch (error) {
    for (const v of made) v.dispose();
    throw error;
  }
  const targets = loraTargets.filter((t) => [...found.values()].some((entry) => entry.target === t));
  const alpha = storedAlpha === undefined || storedAlpha === 0 ? r : (storedAlpha as number);
  return { rank: r, alpha, scale: alpha / r, targets, blocks, dropout: 0 };
}
