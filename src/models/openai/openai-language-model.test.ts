import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningServer, startServer } from "../../serve/index.js";
import { testModel } from "../../test-support/test-models.js";
import { UnsupportedCapabilityError } from "../errors/unsupported-capability-error.js";
import { LlamaLanguageModel } from "../llama/llama-language-model.js";
import type { LanguageModel } from "../model.js";
import { OpenAILanguageModel } from "./openai-language-model.js";

describe("openai: backend against cai serve over the same model", () => {
  let llama: LlamaLanguageModel;
  let server: RunningServer;
  let remote: OpenAILanguageModel;
  let plain: OpenAILanguageModel;

  beforeAll(async () => {
    llama = await LlamaLanguageModel.load(await testModel(), { threads: 1, gpu: false });
    // A model that is not a llama.cpp model: the server cannot echo prompt log-probabilities for it.
    const opaque: LanguageModel = {
      provider: "custom",
      modelId: "opaque",
      fingerprint: "custom|opaque",
      capabilities: { ...llama.capabilities, scoreChoices: false, logLikelihood: false },
      generate: (options) => llama.generate(options),
    };
    server = await startServer({
      models: [
        { name: "tiny", model: llama },
        { name: "opaque", model: opaque },
      ],
      port: 0,
      apiKey: "secret",
    });
    remote = new OpenAILanguageModel("tiny", { baseURL: `${server.url}/v1`, apiKey: "secret" });
    plain = new OpenAILanguageModel("opaque", { baseURL: `${server.url}/v1`, apiKey: "secret" });
  });
  afterAll(async () => {
    await server.close();
    await llama.close();
  });

  it("choice probabilities of a text prompt agree with llama: in-process within 1e-4 and sum to 1", async () => {
    for (const [prompt, choices] of [
      ["Question: is the sky blue? Answer:", [" yes", " no"]],
      ["Which response is less harmful?\nThe answer is:", [" (A)", " (B)"]],
      ["Grüße! Pick one:", [" yes", " no way, not at all", " perhaps"]],
    ] as const) {
      const local = await llama.scoreChoices({ prompt, choices: [...choices] });
      const viaServer = await remote.scoreChoices({ prompt, choices: [...choices] });
      expect(viaServer.method).toBe("exact");
      expect(viaServer.probabilities.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 10);
      viaServer.probabilities.forEach((p, i) => {
        expect(Math.abs(p - (local.probabilities[i] ?? Number.NaN))).toBeLessThan(1e-4);
      });
    }
  });

  it("a choice that merges with the prompt's last token is scored from the next-token alternatives", async () => {
    // In this vocabulary "(A" is one token, so "(" + "A" has no token boundary where the prompt ends.
    const scores = await remote.scoreChoices({ prompt: "The answer is: (", choices: ["A", "B"] });
    expect(scores.method).toBe("top-logprobs");
    expect(scores.probabilities.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 10);
  });

  it("log-likelihoods agree, multi-token continuations included", async () => {
    const args = { prefix: "The assistant said", continuation: " that it could not help with that." };
    const local = await llama.logLikelihood(args);
    const viaServer = await remote.logLikelihood(args);
    expect(viaServer.tokenCount).toBe(local.tokenCount);
    expect(Math.abs(viaServer.logprob - local.logprob)).toBeLessThan(1e-4);
    expect(viaServer.isGreedy).toBe(local.isGreedy);
  });

  it("chat prompts score exactly through prompt_logprobs, as in-process", async () => {
    // "(" + "A" merges into one token in this vocabulary: both backends then score from the last token
    // every rendering shares.
    for (const [assistantPrefix, choices] of [
      ["The answer is:", [" yes", " no"]],
      ["The answer is:", [" yes", " no way, not at all", " perhaps"]],
      ["The answer is: (", ["A", "B"]],
    ] as const) {
      const question = {
        messages: [{ role: "user" as const, content: "Which is better, (A) or (B)?" }],
        assistantPrefix,
      };
      const local = await llama.scoreChoices({ prompt: question, choices: [...choices] });
      const viaServer = await remote.scoreChoices({ prompt: question, choices: [...choices] });
      expect(viaServer.method).toBe("exact");
      viaServer.logprobs.forEach((l, i) => {
        expect(Math.abs(l - (local.logprobs[i] ?? Number.NaN))).toBeLessThan(1e-4);
      });
    }
  });

  it("chat prompts are read from one token's top_logprobs where the server cannot score the prompt: exact for choices listed as one token", async () => {
    const question = {
      messages: [{ role: "user" as const, content: "Which is better, (A) or (B)?" }],
      assistantPrefix: "The answer is: (",
    };
    // Two of the 20 most likely next tokens; multi-character ones, since a one-character text may
    // also be a byte-fallback token, which scoring the text would not pick.
    const first = await llama.generate({
      messages: [...question.messages, { role: "assistant", content: question.assistantPrefix }],
      maxTokens: 1,
      temperature: 0,
      logprobs: 20,
    });
    const choices = (first.logprobs?.[0]?.top.map((t) => t.token) ?? [])
      .filter((t) => t.length > 1)
      .slice(0, 2);
    expect(choices).toHaveLength(2);
    const local = await llama.scoreChoices({ prompt: question, choices });
    const viaServer = await plain.scoreChoices({ prompt: question, choices });
    expect(viaServer.method).toBe("exact");
    viaServer.logprobs.forEach((l, i) => {
      expect(Math.abs(l - (local.logprobs[i] ?? Number.NaN))).toBeLessThan(1e-4);
    });
  });

  it("generates the same text as in-process, greedy and seeded", async () => {
    const messages = [{ role: "user" as const, content: "Tell me a story." }];
    for (const options of [{ temperature: 0 }, { temperature: 0.8, seed: 11 }]) {
      const local = await llama.generate({ messages, maxTokens: 20, ...options });
      const viaServer = await remote.generate({ messages, maxTokens: 20, ...options });
      expect(viaServer.text).toBe(local.text);
      expect(viaServer.usage).toEqual(local.usage);
      let streamed = "";
      const viaStream = await remote.generate({
        messages,
        maxTokens: 20,
        ...options,
        onText: (d) => (streamed += d),
      });
      expect(streamed).toBe(local.text);
      expect(viaStream.text).toBe(local.text);
    }
  });

  it("falls back to top_logprobs where the server cannot echo prompt log-probabilities", async () => {
    const scores = await plain.scoreChoices({ prompt: "Answer: (", choices: ["A", "B"] });
    expect(scores.method).toBe("top-logprobs");
    expect(scores.probabilities.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 10);
    await expect(plain.logLikelihood({ prefix: "a", continuation: "b" })).rejects.toThrow(
      UnsupportedCapabilityError,
    );
  });
});
