// Reading GGUF LoRA adapters back into the trainer: write → read gives the same values and the same
// log-probabilities, adapters written by the random-adapter factory load, and a mismatched architecture,
// shape or missing factor is refused with a ModelLoadError naming the file.
import path from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { gguf } from "../../gguf/gguf-value.js";
import { writeGguf } from "../../gguf/writer.js";
import { ModelLoadError } from "../../models/errors/model-load-error.js";
import { SeededRandom } from "../../random/seeded-random.js";
import { testAdapter, testFolder, testModel } from "../../test-support/test-models.js";
import { initTrainingBackend } from "../model/backend.js";
import { createLora, disposeLora, type LoraAdapter, loraVariables } from "../model/lora.js";
import { sequenceLogprobs } from "../model/transformer.js";
import { disposeWeights, loadWeights, type TransformerWeights } from "../model/weights.js";
import { writeGgufAdapter } from "./export-gguf-adapter.js";
import { readGgufAdapter } from "./import-gguf-adapter.js";

const tokens = [1, 313, 333, 330, 440, 346, 334, 328, 336, 435];

describe("readGgufAdapter (tiny)", () => {
  let weights: TransformerWeights;
  let lora: LoraAdapter;
  let dir: string;

  beforeAll(async () => {
    await initTrainingBackend();
    weights = await loadWeights(await testModel());
    lora = createLora(weights, { rank: 4, alpha: 8, seed: 5, targets: ["attn_q", "attn_v", "ffn_down"] });
    // A trained-looking adapter: B non-zero, so the round trip is visible in the log-probabilities.
    const random = new SeededRandom(9);
    for (const v of loraVariables(lora)) v.assign(tf.tensor(random.normals(v.size, 0.05), v.shape));
    dir = await testFolder();
  });
  afterAll(() => {
    if (lora) disposeLora(lora);
    if (weights) disposeWeights(weights);
  });

  it("reads back exactly what writeGgufAdapter wrote", async () => {
    const file = path.join(dir, "roundtrip-adapter.gguf");
    await writeGgufAdapter(file, lora, weights.config.architecture);
    const read = await readGgufAdapter(file, weights);
    try {
      expect(read.rank).toBe(4);
      expect(read.alpha).toBe(8);
      expect(read.scale).toBe(2);
      expect(read.targets).toEqual(["attn_q", "attn_v", "ffn_down"]);
      const [ours, theirs] = [loraVariables(lora), loraVariables(read)];
      expect(theirs).toHaveLength(ours.length);
      ours.forEach((v, i) => {
        expect(theirs[i]?.shape).toEqual(v.shape);
        expect(Array.from(theirs[i]?.dataSync() ?? [])).toEqual(Array.from(v.dataSync()));
      });
      const before = sequenceLogprobs(weights, tokens, lora);
      const after = sequenceLogprobs(weights, tokens, read);
      expect(Array.from(after)).toEqual(Array.from(before));
      expect(Array.from(after)).not.toEqual(Array.from(sequenceLogprobs(weights, tokens)));
    } finally {
      disposeLora(read);
    }
  });

  it("reads an adapter of every target written by the random-adapter factory", async () => {
    const read = await readGgufAdapter(await testAdapter(await testModel()), weights);
    try {
      expect(read.rank).toBe(4);
      expect(read.targets).toHaveLength(7);
      expect(loraVariables(read)).toHaveLength(weights.blocks.length * 7 * 2);
    } finally {
      disposeLora(read);
    }
  });

  it("refuses another architecture, a wrong shape and a missing factor", async () => {
    const qwen = await readGgufAdapter(await testAdapter(await testModel("tiny-qwen2")), weights).catch(
      (error: unknown) => error,
    );
    expect(ModelLoadError.isInstance(qwen)).toBe(true);
    expect(String(qwen)).toMatch(/architecture "qwen2".*llama/);

    const write = async (name: string, tensors: Parameters<typeof writeGguf>[1]["tensors"]) => {
      const file = path.join(dir, name);
      await writeGguf(file, {
        metadata: [
          ["general.architecture", gguf.str("llama")],
          ["general.type", gguf.str("adapter")],
          ["adapter.type", gguf.str("lora")],
          ["adapter.lora.alpha", gguf.f32(4)],
        ],
        tensors,
      });
      return file;
    };
    const dim = weights.config.embeddingLength;
    const wrongShape = await write("wrong-shape.gguf", [
      {
        name: "blk.0.attn_q.weight.lora_a",
        shape: [dim + 1, 2],
        type: "F32",
        data: new Float32Array((dim + 1) * 2),
      },
      { name: "blk.0.attn_q.weight.lora_b", shape: [2, dim], type: "F32", data: new Float32Array(2 * dim) },
    ]);
    await expect(readGgufAdapter(wrongShape, weights)).rejects.toThrow(/wrong-shape\.gguf.*lora_a has shape/);
    const missing = await write("missing-b.gguf", [
      { name: "blk.1.ffn_up.weight.lora_a", shape: [dim, 2], type: "F32", data: new Float32Array(dim * 2) },
    ]);
    await expect(readGgufAdapter(missing, weights)).rejects.toThrow(/missing-b\.gguf.*lora_b missing/);
  });
});
