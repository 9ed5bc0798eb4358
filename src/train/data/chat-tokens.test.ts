// sftExampleFromMessages on the generated tiny model (ChatML): the context is what generation sees and the
// learned tokens spell exactly the final assistant message.
import type { Token } from "node-llama-cpp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LlamaLanguageModel } from "../../models/llama/llama-language-model.js";
import type { ChatMessage } from "../../models/model.js";
import { testModel } from "../../test-support/test-models.js";
import { initTrainingBackend } from "../model/backend.js";
import { disposeWeights, loadWeights } from "../model/weights.js";
import { sftLoss } from "../objectives/sft.js";
import { padBatch } from "../train-sft.js";
import { sftExampleFromMessages } from "./chat-tokens.js";

let model: LlamaLanguageModel;

beforeAll(async () => {
  model = await LlamaLanguageModel.load(await testModel("tiny", "F32"), { threads: 1, gpu: false });
});
afterAll(async () => {
  await model?.close();
});

const conversation: ChatMessage[] = [
  { role: "system", content: "be brief" },
  { role: "user", content: "hello there" },
  { role: "assistant", content: "first answer" },
  { role: "user", content: "and again?" },
  { role: "assistant", content: "the final answer" },
];

describe("sftExampleFromMessages", () => {
  it("masks exactly the final assistant message, after the tokens generation would see", () => {
    const example = sftExampleFromMessages(model.prompts, conversation);
    expect(example.lossMask).toHaveLength(example.tokens.length);
    const start = example.lossMask.indexOf(1);
    expect(start).toBeGreaterThan(0);
    expect(example.lossMask.slice(start).every((m) => m === 1)).toBe(true);
    const context = example.tokens.slice(0, start);
    expect(context).toEqual(model.prompts.chatTokens(conversation.slice(0, -1)));
    expect(model.detokenize(example.tokens.slice(start) as Token[])).toBe("the final answer");
    // The earlier assistant turn is context only.
    expect(model.detokenize(context as Token[])).toContain("first answer");
  });

  it("appends and learns the end-of-turn tokens when given", () => {
    const plain = sftExampleFromMessages(model.prompts, conversation);
    const closed = sftExampleFromMessages(model.prompts, conversation, { endOfTurn: [7] });
    expect(closed.tokens).toEqual([...plain.tokens, 7]);
    expect(closed.lossMask).toEqual([...plain.lossMask, 1]);
  });

  it("finds the template's end-of-turn token: what follows an answer when the chat goes on, and stops generation", () => {
    const end = model.prompts.endOfTurnTokens();
    expect(end).toHaveLength(1);
    expect(model.detokenize(end as Token[], { special: true })).toBe("<|im_end|>");
  });

  it("refuses a conversation that does not end with an assistant message", () => {
    expect(() => sftExampleFromMessages(model.prompts, conversation.slice(0, -1))).toThrow(/assistant/);
    expect(() =>
      sftExampleFromMessages(model.prompts, [
        { role: "user", content: "hi" },
        { role: "assistant", content: "" },
      ]),
    ).toThrow(/empty/);
  });

  it("learns only the end of turn for an empty answer (a model that stops at once)", () => {
    const end = model.prompts.endOfTurnTokens();
    const asked = [{ role: "user" as const, content: "hi" }];
    const example = sftExampleFromMessages(model.prompts, [...asked, { role: "assistant", content: "" }], {
      endOfTurn: end,
    });
    expect(example.tokens).toEqual([...model.prompts.chatTokens(asked, ""), ...end]);
    expect(example.lossMask.filter((m) => m === 1)).toHaveLength(end.length);
  });
});

describe("padBatch", () => {
  it("pads to the longest sequence without changing a conversation's loss (causal attention)", async () => {
    await initTrainingBackend();
    const weights = await loadWeights(await testModel("tiny", "F32"));
    try {
      const short = sftExampleFromMessages(model.prompts, conversation.slice(1, 3));
      const long = sftExampleFromMessages(model.prompts, conversation);
      const [padded, same] = padBatch([short, long]);
      expect(same).toBe(long);
      expect(padded?.tokens).toHaveLength(long.tokens.length);
      const alone = sftLoss(weights, undefined, [short]);
      const inBatch = sftLoss(weights, undefined, [padded ?? short]);
      expect(inBatch.dataSync()[0]).toBeCloseTo(alone.dataSync()[0] ?? Number.NaN, 5);
      alone.dispose();
      inBatch.dispose();
    } finally {
      disposeWeights(weights);
    }
  });
});
