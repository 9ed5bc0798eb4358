import { mkdtemp } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testModel } from "../../test-support/test-models.js";
import { LlamaLanguageModel } from "../llama/llama-language-model.js";
import type { LanguageModel } from "../model.js";
import { withCallCache } from "./cached-model.js";
import { CallCache } from "./call-cache.js";

/** Counts the calls that reach the real model. */
function counted(model: LanguageModel): { model: LanguageModel; calls: () => number } {
  let calls = 0;
  const count =
    <A extends unknown[], R>(f: (...args: A) => Promise<R>) =>
    (...args: A) => {
      calls += 1;
      return f(...args);
    };
  return {
    model: {
      ...model,
      provider: model.provider,
      modelId: model.modelId,
      fingerprint: model.fingerprint,
      capabilities: model.capabilities,
      generate: count(model.generate.bind(model)),
      scoreChoices: count(model.scoreChoices!.bind(model)),
      logLikelihood: count(model.logLikelihood!.bind(model)),
    },
    calls: () => calls,
  };
}

describe("call cache on real SQLite", () => {
  let llama: LlamaLanguageModel;
  let file: string;
  beforeAll(async () => {
    llama = await LlamaLanguageModel.load(await testModel(), { threads: 1, gpu: false });
    file = path.join(await mkdtemp(path.join(os.tmpdir(), "cai-cache-")), "calls.sqlite");
  });
  afterAll(() => llama.close());

  const run = async (model: LanguageModel) => [
    await model.generate({ messages: [{ role: "user", content: "Hi" }], maxTokens: 8, temperature: 0 }),
    await model.generate({
      messages: [{ role: "user", content: "Hi" }],
      maxTokens: 8,
      temperature: 0.9,
      seed: 5,
    }),
    await model.scoreChoices!({ prompt: "Answer: (", choices: ["A", "B"] }),
    await model.logLikelihood!({ prefix: "Hello", continuation: " world" }),
  ];

  it("a second identical deterministic run makes zero backend calls, and --no-cache makes them again", async () => {
    const first = counted(llama);
    const cache = new CallCache(file);
    const firstResults = await run(withCallCache(first.model, cache));
    expect(first.calls()).toBe(4);
    cache.close();

    // A new process would reopen the same file: do the same.
    const second = counted(llama);
    const reopened = new CallCache(file);
    const secondResults = await run(withCallCache(second.model, reopened));
    expect(second.calls()).toBe(0);
    expect(secondResults).toEqual(firstResults);
    expect(reopened.stats).toEqual({ hits: 4, misses: 0 });
    reopened.close();

    const uncached = counted(llama);
    await run(uncached.model);
    expect(uncached.calls()).toBe(4);
  });

  it("never caches sampled calls without a seed, and keys on every parameter", async () => {
    const inner = counted(llama);
    const cache = new CallCache(":memory:");
    const model = withCallCache(inner.model, cache);
    const messages = [{ role: "user" as const, content: "Hi" }];
    await model.generate({ messages, maxTokens: 4, temperature: 0.7 });
    await model.generate({ messages, maxTokens: 4, temperature: 0.7 });
    expect(inner.calls()).toBe(2);
    await model.generate({ messages, maxTokens: 4, temperature: 0 });
    await model.generate({ messages, maxTokens: 5, temperature: 0 });
    await model.generate({ messages, maxTokens: 4, temperature: 0, stop: ["x"] });
    expect(inner.calls()).toBe(5);
    await model.generate({ messages, maxTokens: 4, temperature: 0 });
    expect(inner.calls()).toBe(5);
    cache.close();
  });

  it("keeps −Infinity log-probabilities through the store", () => {
    const cache = new CallCache(":memory:");
    const key = CallCache.key("scoreChoices", "m", { x: 1 });
    cache.put(key, "scoreChoices", "m", { logprobs: [Number.NEGATIVE_INFINITY, -1] });
    expect(cache.get(key)).toEqual({ logprobs: [Number.NEGATIVE_INFINITY, -1] });
    expect(CallCache.key("op", "m", { a: 1, b: 2 })).toBe(CallCache.key("op", "m", { b: 2, a: 1 }));
    cache.close();
  });
});
