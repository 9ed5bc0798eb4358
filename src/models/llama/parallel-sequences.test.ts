// Concurrent calls on parallel sequences of one context get their own results: the same greedy text and
// the same choice probabilities as one call at a time. Without serialized logit reads (serial-sampling.ts),
// llama.cpp's lazy output reordering raced between node-llama-cpp's sampling threads and handed sequences
// each other's logits (measured: 6–9 of 80 greedy texts and 6–7 of 320 scorings differed at 8 sequences).
// Without the fix the generation test failed in 5 of 5 runs here, the scoring one in about 1 of 5.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testModel } from "../../test-support/test-models.js";
import { LlamaLanguageModel } from "./llama-language-model.js";

let model: LlamaLanguageModel;
const words = ["cake", "lock", "wifi", "tree", "door", "car", "phone", "book"];

beforeAll(async () => {
  model = await LlamaLanguageModel.load(await testModel("tiny", "F32"), {
    threads: 1,
    gpu: false,
    parallel: 8,
    contextSize: 2048,
  });
});
afterAll(async () => {
  await model?.close();
});

/** Runs `work` on every item with eight workers pulling from a queue, so batches mix calls at different stages. */
async function concurrently<T, R>(items: readonly T[], work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = [];
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < items.length; i = next++) results[i] = await work(items[i] as T);
  };
  await Promise.all(Array.from({ length: 8 }, worker));
  return results;
}

describe("parallel sequences of one llama.cpp context", () => {
  it("give each concurrent greedy generation its own text", async () => {
    const prompts = Array.from({ length: 16 }, (_, i) => [
      { role: "user" as const, content: `tell me about the ${words[i % 8]} number ${i}` },
    ]);
    const generate = (messages: (typeof prompts)[number]) =>
      model.generate({ messages, maxTokens: 24, temperature: 0 }).then((r) => r.text);
    const alone: string[] = [];
    for (const messages of prompts) alone.push(await generate(messages));
    expect(new Set(alone).size).toBeGreaterThan(8);
    for (let round = 0; round < 5; round += 1) {
      expect(await Promise.all(prompts.map(generate))).toEqual(alone);
      expect(await concurrently(prompts, generate)).toEqual(alone);
    }
  });

  it("give each concurrent scoring its own probabilities", async () => {
    const shared = "here is a long shared example conversation about many things ".repeat(20);
    const prompts = Array.from({ length: 16 }, (_, i) => ({
      messages: [
        { role: "user" as const, content: `${shared} question ${words[i % 8]} ${words[(i * 3) % 8]}` },
      ],
      assistantPrefix: "the answer is (",
    }));
    const score = (prompt: (typeof prompts)[number]) =>
      model.scoreChoices({ prompt, choices: ["A", "B"] }).then((r) => r.probabilities[0] ?? Number.NaN);
    const alone: number[] = [];
    for (const prompt of prompts) alone.push(await score(prompt));
    expect(new Set(alone.map((p) => p.toFixed(6))).size).toBe(8);
    for (let round = 0; round < 30; round += 1) {
      const together = await concurrently(prompts, score);
      for (const [i, p] of together.entries()) expect(p).toBeCloseTo(alone[i] ?? Number.NaN, 6);
    }
  });
});
