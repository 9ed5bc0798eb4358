// The `llama:` backend's results depend only on the call: sampled texts and choice probabilities are the
// same, to the bit, one call at a time on a fresh model, many at once, and after other calls left
// cached prefixes behind (a resume, or a revision round reusing the draft it generated). Before paired
// decoding and one-token-free batches, concurrent calls and reused prefixes put tokens through llama.cpp's
// one-token path: 21 of 120 sampled texts differed at 4 concurrent calls on the F16 model here.
import { afterAll, describe, expect, it } from "vitest";
import { testModel } from "../../test-support/test-models.js";
import type { ChatMessage } from "../model.js";
import { pieceSizes } from "./canonical-evaluation.js";
import { LlamaLanguageModel } from "./llama-language-model.js";

const words = ["cake", "lock", "wifi", "tree", "door", "car", "phone", "book", "lamp", "rope"];
const prompts: ChatMessage[][] = Array.from({ length: 12 }, (_, i) => [
  { role: "user", content: `tell me about the ${words[i % 10]} and the ${words[(i * 3) % 10]}, please` },
]);
const question = (i: number) => ({
  messages: [
    { role: "user" as const, content: `${"a long shared preamble ".repeat(28)}${words[i % 10]} (A) or (B)?` },
  ],
  assistantPrefix: "The answer is: (",
});

const opened: LlamaLanguageModel[] = [];
async function load(file: string, parallel: number): Promise<LlamaLanguageModel> {
  const model = await LlamaLanguageModel.load(file, { threads: 1, gpu: false, parallel, contextSize: 2048 });
  opened.push(model);
  return model;
}
afterAll(async () => {
  await Promise.all(opened.map((m) => m.close()));
});

async function concurrently<T, R>(
  items: readonly T[],
  width: number,
  work: (item: T, i: number) => Promise<R>,
) {
  const results: R[] = [];
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < items.length; i = next++) results[i] = await work(items[i] as T, i);
  };
  await Promise.all(Array.from({ length: width }, worker));
  return results;
}

/** A sampled text with every token's log-probability: numbers show a difference before a text does. */
const sample = (model: LlamaLanguageModel) => (messages: ChatMessage[], i: number) =>
  model
    .generate({ messages, maxTokens: 32, temperature: 1, seed: 100 + i, logprobs: 1 })
    .then((r) => ({ text: r.text, logprobs: r.logprobs?.map((l) => l.logprob) }));
/** Many choices, so that a change in the last bits of any of their probabilities shows. */
const choices = ["A", "B", "C", "D", "E", "F", "G", "H", "I", "J", "K", "L"];
const score = (model: LlamaLanguageModel) => (i: number) =>
  model.scoreChoices({ prompt: question(i), choices }).then((r) => r.logprobs);

describe.each(["F32", "F16", "Q8_0"] as const)("the llama: backend on a tiny %s model", (type) => {
  it("samples the same texts alone, at 4 concurrent calls and after reused prefixes", async () => {
    const file = await testModel("tiny", type);
    const alone = await concurrently(prompts, 1, sample(await load(file, 1)));
    expect(new Set(alone.map((a) => a.text)).size).toBeGreaterThan(9);
    const shared = await load(file, 4);
    expect(await concurrently(prompts, 4, sample(shared))).toEqual(alone);
    // Again, one at a time on the same contexts: each prompt is now cached whole but for its last token.
    expect(await concurrently(prompts, 1, sample(shared))).toEqual(alone);
  });

  it("scores choices to the bit alone, concurrently and after reused prefixes", async () => {
    const file = await testModel("tiny", type);
    const indexes = Array.from({ length: 12 }, (_, i) => i);
    const fresh = await load(file, 1);
    const alone: number[][] = [];
    for (const i of indexes) {
      await fresh.generate({ messages: prompts[i] as ChatMessage[], maxTokens: 8, temperature: 0 });
      alone.push(await score(fresh)(i));
    }
    const shared = await load(file, 4);
    expect(await concurrently(indexes, 4, score(shared))).toEqual(alone);
    // The same question with another last token: everything but that token is cached.
    const other = { ...question(0), assistantPrefix: "The answer is: [" };
    await score(fresh)(0);
    const reused = await fresh.scoreChoices({ prompt: other, choices });
    const unused = await (await load(file, 1)).scoreChoices({ prompt: other, choices });
    expect(reused.logprobs).toEqual(unused.logprobs);
  });

  it("continues a conversation holding its own generated answer as a fresh model would", async () => {
    const file = await testModel("tiny", type);
    const model = await load(file, 1);
    const follow = async (m: LlamaLanguageModel, draft: string) =>
      (
        await m.generate({
          messages: [
            ...(prompts[0] as ChatMessage[]),
            { role: "assistant", content: draft },
            { role: "user", content: "now say it better" },
          ],
          maxTokens: 30,
          temperature: 1,
          seed: 7,
        })
      ).text;
    const draft = (await model.generate({ messages: prompts[0] as ChatMessage[], maxTokens: 30, seed: 3 }))
      .text;
    // The model's cache now holds the draft as it was generated, token by token.
    const reused = await follow(model, draft);
    const fresh = await load(file, 1);
    expect(reused).toBe(await follow(fresh, draft));
  });
});

describe("pieceSizes", () => {
  it("cuts long inputs into pieces of at most the batch size and never one token", () => {
    expect(pieceSizes(1, 512)).toEqual([1]);
    expect(pieceSizes(2, 512)).toEqual([2]);
    expect(pieceSizes(512, 512)).toEqual([512]);
    expect(pieceSizes(513, 512)).toEqual([511, 2]);
    expect(pieceSizes(1025, 512)).toEqual([512, 511, 2]);
    expect(pieceSizes(1100, 512)).toEqual([512, 512, 76]);
  });
});
