import { stat } from "node:fs/promises";
import { getLlama } from "node-llama-cpp";
import { describe, expect, it } from "vitest";
import { testAdapter, testModel } from "../../test-support/test-models.js";
import { GgufFile } from "../reader.js";
import { buildSpmVocabulary } from "./spm-vocabulary.js";

const samples = [
  "Hello, world! The answer is (A).",
  "  leading spaces, tabs\tand\nnewlines  ",
  "Grüße aus Köln — naïve café, 你好，世界 🙂",
];

describe("generated test models", () => {
  it("tiny is under 1 MB and deterministic per seed", async () => {
    const file = await testModel("tiny", "F32", 1);
    expect((await stat(file)).size).toBeLessThan(1024 * 1024);
    const a = await GgufFile.open(file);
    const b = await GgufFile.open(await testModel("tiny", "F32", 2));
    const again = await GgufFile.open(await testModel("tiny", "Q8_0", 1));
    try {
      const q1 = await a.readTensor("blk.0.attn_q.weight");
      const q2 = await b.readTensor("blk.0.attn_q.weight");
      expect(q1).not.toEqual(q2);
      // The same seed gives the same weights whatever the type (up to the Q8_0 rounding).
      const q8 = await again.readTensor("blk.0.attn_q.weight");
      const maxError = Math.max(...q1.map((v, i) => Math.abs(v - (q8[i] ?? 0))));
      expect(maxError).toBeLessThan(0.02);
      expect(a.metadataValue("tokenizer.chat_template")).toContain("<|im_start|>");
    } finally {
      await Promise.all([a.close(), b.close(), again.close()]);
    }
  });

  it.each(["tiny", "tiny-qwen2"] as const)(
    "node-llama-cpp loads %s and its tokenizer round-trips text",
    async (preset) => {
      const llama = await getLlama({ gpu: false });
      const model = await llama.loadModel({ modelPath: await testModel(preset, "F16") });
      try {
        expect(model.fileInfo.metadata.general.architecture).toBe(preset === "tiny" ? "llama" : "qwen2");
        for (const text of samples) {
          const tokens = model.tokenize(text);
          expect(model.detokenize(tokens)).toBe(text);
        }
        // Merges happen: common words take fewer tokens than characters.
        expect(model.tokenize("the answer is in").length).toBeLessThan("the answer is in".length);
        // Non-ASCII falls back to bytes: one token per UTF-8 byte.
        expect(model.tokenize("你").length).toBe(3);
      } finally {
        await model.dispose();
      }
    },
  );

  it("the qwen2 variant has QKV biases; smollm2-135m has the real model's shapes", async () => {
    const qwen = await GgufFile.open(await testModel("tiny-qwen2"));
    try {
      expect(qwen.tensor("blk.0.attn_q.bias")?.shape).toEqual([64]);
      expect(qwen.tensor("blk.1.attn_k.bias")?.shape).toEqual([32]);
    } finally {
      await qwen.close();
    }
    expect(buildSpmVocabulary(49152).tokens.length).toBe(49152);
    expect(new Set(buildSpmVocabulary(49152).tokens).size).toBe(49152);
  });

  it("a random adapter has llama.cpp's LoRA layout for its base", async () => {
    const base = await testModel();
    const adapter = await GgufFile.open(await testAdapter(base));
    try {
      expect(adapter.metadataValue("general.type")).toBe("adapter");
      expect(adapter.metadataValue("adapter.type")).toBe("lora");
      expect(adapter.tensor("blk.0.attn_q.weight.lora_a")?.shape).toEqual([64, 4]);
      expect(adapter.tensor("blk.0.attn_q.weight.lora_b")?.shape).toEqual([4, 64]);
      expect(adapter.tensor("blk.1.ffn_down.weight.lora_a")?.shape).toEqual([128, 4]);
      expect(adapter.tensor("blk.1.ffn_down.weight.lora_b")?.shape).toEqual([4, 64]);
      expect(adapter.tensors.length).toBe(2 * 7 * 2);
    } finally {
      await adapter.close();
    }
  });
});
