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

describe("llama: backend under concurrency", () => {
  it("concurrent calls on parallel sequences give the same answers as one at a time", async () => {
    const parallel = await LlamaLanguageModel.load(await testModel(), {
      threads: 1,
      gpu: false,
      parallel: 4,
    });
    const single = await LlamaLanguageModel.load(await testModel(), { threads: 1, gpu: false, parallel: 1 });
    try {
      const prompts = ["one", "two two", "three three three", "four", "five", "six"].map((content) => ({
        messages: [{ role: "user" as const, content }],
        maxTokens: 12,
        temperature: 0,
      }));
      const sequential = [];
      for (const p of prompts) sequential.push((await single.generate(p)).text);
      // Six calls on four sequences: two wait for a free sequence.
      const together = await Promise.all(prompts.map((p) => parallel.generate(p)));
      expect(together.map((r) => r.text)).toEqual(sequential);
      const queued = await Promise.all(prompts.map((p) => single.generate(p)));
      expect(queued.map((r) => r.text)).toEqual(sequential);
    } finally {
      await parallel.close();
      await single.close();
    }
  });

  it("the same spec, seed and parameters give the same text in separately loaded models", async () => {
    const { createModel } = await import("../create-model.js");
    const spec = `llama:${await testModel("tiny", "Q8_0")}?threads=1&cpu=1`;
    const texts = [];
    for (let i = 0; i < 2; i += 1) {
      const model = await createModel(spec);
      texts.push(
        (
          await model.generate({
            messages: [{ role: "user", content: "Hi" }],
            temperature: 0.9,
            seed: 3,
            maxTokens: 16,
          })
        ).text,
      );
      await model.close?.();
    }
    expect(texts[0]).toBe(texts[1]);
    expect(texts[0]?.length).toBeGreaterThan(0);
  });

  it("an aborted call rejects with ModelAbortedError and frees its sequence", async () => {
    const { ModelAbortedError } = await import("../errors/model-aborted-error.js");
    const model = await LlamaLanguageModel.load(await testModel(), { threads: 1, gpu: false, parallel: 1 });
    try {
      const controller = new AbortController();
      let pieces = 0;
      const aborted = model.generate({
        messages: [{ role: "user", content: "Go on" }],
        maxTokens: 400,
        temperature: 0,
        signal: controller.signal,
        onText: () => {
          pieces += 1;
          if (pieces === 3) controller.abort();
        },
      });
      await expect(aborted).rejects.toSatisfy((e) => ModelAbortedError.isInstance(e));
      const after = await model.generate({
        messages: [{ role: "user", content: "Hi" }],
        maxTokens: 4,
        temperature: 0,
      });
      expect(after.usage.outputTokens).toBeGreaterThan(0);
    } finally {
      await model.close();
    }
  });
});
