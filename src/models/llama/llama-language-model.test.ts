import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testAdapter, testModel } from "../../test-support/test-models.js";
import { LlamaLanguageModel } from "./llama-language-model.js";

const question = {
  messages: [{ role: "user" as const, content: "Which answer is better? (A) or (B)" }],
  assistantPrefix: "The answer is: (",
};

describe("llama: backend on a generated tiny model", () => {
  let model: LlamaLanguageModel;
  beforeAll(async () => {
    model = await LlamaLanguageModel.load(await testModel(), { threads: 1, gpu: false, parallel: 2 });
  });
  afterAll(() => model.close());

  it("gives the same text for the same seed and parameters, and other text for another seed", async () => {
    const call = (seed: number) =>
      model.generate({ messages: [{ role: "user", content: "Hello" }], maxTokens: 24, temperature: 1, seed });
    const [a, b, c] = [await call(42), await call(42), await call(43)];
    expect(a.text).toBe(b.text);
    expect(a.usage.outputTokens).toBeGreaterThan(0);
    expect(c.text).not.toBe(a.text);
  });

  it("scores choices: probabilities sum to 1 and follow the log-probabilities", async () => {
    const scores = await model.scoreChoices({ prompt: question, choices: ["A", "B"] });
    expect(scores.probabilities[0]! + scores.probabilities[1]!).toBeCloseTo(1, 12);
    expect(scores.probabilities[0]! / scores.probabilities[1]!).toBeCloseTo(
      Math.exp(scores.logprobs[0]! - scores.logprobs[1]!),
      9,
    );
    expect(scores.method).toBe("exact");
  });

  it("log-likelihood of a multi-token continuation is the sum over its tokens", async () => {
    const whole = await model.logLikelihood({ prefix: "The answer is", continuation: " not here" });
    expect(whole.tokenCount).toBeGreaterThan(1);
    const first = await model.logLikelihood({ prefix: "The answer is", continuation: " not" });
    const rest = await model.logLikelihood({ prefix: "The answer is not", continuation: " here" });
    expect(whole.logprob).toBeCloseTo(first.logprob + rest.logprob, 4);
  });

  it("a random adapter changes the choice probabilities; without it they return to the base values", async () => {
    const base = await model.scoreChoices({ prompt: question, choices: ["A", "B"] });
    const adapted = await LlamaLanguageModel.load(await testModel(), {
      threads: 1,
      gpu: false,
      adapters: [{ path: await testAdapter(await testModel()) }],
    });
    try {
      const withAdapter = await adapted.scoreChoices({ prompt: question, choices: ["A", "B"] });
      expect(Math.abs(withAdapter.probabilities[0]! - base.probabilities[0]!)).toBeGreaterThan(1e-3);
      expect(adapted.fingerprint).not.toBe(model.fingerprint);
    } finally {
      await adapted.close();
    }
    const again = await model.scoreChoices({ prompt: question, choices: ["A", "B"] });
    // Equal up to float32 noise: the prompt's cached prefix is reused, so batches differ.
    expect(again.probabilities[0]).toBeCloseTo(base.probabilities[0]!, 6);
  });
});
