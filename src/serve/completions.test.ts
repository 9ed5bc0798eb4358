import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LlamaLanguageModel } from "../models/llama/llama-language-model.js";
import { OpenAILanguageModel } from "../models/openai/openai-language-model.js";
import { testModel } from "../test-support/test-models.js";
import { type RunningServer, startServer } from "./index.js";

/** Prefixes and continuations: ASCII, and UTF-8 where the test vocabulary falls back to byte tokens. */
const pairs: Array<[string, string]> = [
  ["The answer is", " not here"],
  ["Hello", " world"],
  ["Grüße, ", "你好"],
  ["Grüß", "e, 你好!"],
];

/** Legacy completion log-probabilities, as the SDK types them. */
type Logprobs = NonNullable<OpenAI.Completions.CompletionChoice["logprobs"]>;

describe("serve: /v1/completions with echo and logprobs", () => {
  let model: LlamaLanguageModel;
  let server: RunningServer;
  let client: OpenAI;

  beforeAll(async () => {
    model = await LlamaLanguageModel.load(await testModel(), { threads: 1, gpu: false });
    server = await startServer({ models: [{ name: "tiny", model }], port: 0 });
    client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: "none", maxRetries: 0 });
  });
  afterAll(async () => {
    await server?.close();
    await model?.close();
  });

  it("lists the prompt's tokens so that those at or after a prefix's end are the continuation's, summing to its log-likelihood", async () => {
    const completion = await client.completions.create({
      model: "tiny",
      prompt: pairs.map(([p, c]) => p + c),
      max_tokens: 0,
      echo: true,
      logprobs: 2,
    });
    expect(completion.object).toBe("text_completion");
    expect(completion.choices.map((c) => c.index)).toEqual(pairs.map((_, i) => i));
    for (const [i, [prefix, continuation]] of pairs.entries()) {
      const choice = completion.choices.find((c) => c.index === i);
      const whole = prefix + continuation;
      // max_tokens 0: only the echo.
      expect(choice?.text).toBe(whole);
      const logprobs = choice?.logprobs as Logprobs;
      const tokens = model.prompts.textTokens(whole);
      const prefixTokens = model.prompts.textTokens(prefix);
      expect(prefixTokens.every((t, k) => tokens[k] === t)).toBe(true);
      expect(logprobs.tokens).toHaveLength(tokens.length);
      expect(logprobs.tokens?.[0]).toBe("");
      expect(logprobs.token_logprobs?.[0]).toBeNull();
      expect(logprobs.top_logprobs?.[0]).toBeNull();
      expect(logprobs.text_offset?.[0]).toBe(0);

      const offsets = logprobs.text_offset ?? [];
      const inContinuation = offsets.flatMap((o, k) => (o >= prefix.length ? [k] : []));
      expect(inContinuation).toEqual(
        tokens.slice(prefixTokens.length).map((_, k) => prefixTokens.length + k),
      );
      const sum = inContinuation.reduce((s, k) => s + (logprobs.token_logprobs?.[k] ?? Number.NaN), 0);
      const expected = await model.logLikelihood({ prefix, continuation });
      expect(Math.abs(sum - expected.logprob)).toBeLessThan(1e-5);

      for (const [k, offset] of offsets.entries()) {
        expect(offset).toBeGreaterThanOrEqual(offsets[k - 1] ?? 0);
        if (k > 0) {
          expect(logprobs.token_logprobs?.[k]).toBeLessThanOrEqual(0);
          // Two alternatives and the token itself (fewer when texts coincide).
          expect(Object.keys(logprobs.top_logprobs?.[k] ?? {}).length).toBeGreaterThanOrEqual(1);
        }
      }
    }
    const usage = completion.usage;
    expect(usage?.completion_tokens).toBe(0);
    expect(usage?.prompt_tokens).toBe(
      pairs.reduce((n, [p, c]) => n + model.prompts.textTokens(p + c).length, 0),
    );
  });

  it("puts the byte pieces of a split character at the character's offset", async () => {
    const prompt = "Grüße, 你好";
    const completion = await client.completions.create({
      model: "tiny",
      prompt,
      max_tokens: 0,
      echo: true,
      logprobs: 0,
    });
    const offsets = completion.choices[0]?.logprobs?.text_offset ?? [];
    const start = "Grüße, ".length;
    // 你 and 好 are not in the vocabulary: three byte tokens each.
    expect(offsets.filter((o) => o >= start)).toEqual([start, start, start, start + 1, start + 1, start + 1]);
  });

  it("generates after the echo, offsets continuing past the prompt; max_tokens 0 without logprobs gives the bare echo", async () => {
    const prompt = "The answer is";
    const completion = await client.completions.create({
      model: "tiny",
      prompt,
      max_tokens: 6,
      temperature: 0,
      echo: true,
      logprobs: 1,
    });
    const choice = completion.choices[0];
    const direct = await model.complete({ prompt, maxTokens: 6, temperature: 0 });
    expect(choice?.text).toBe(prompt + direct.text);
    const logprobs = choice?.logprobs as Logprobs;
    const promptTokens = model.prompts.textTokens(prompt).length;
    expect(logprobs.tokens).toHaveLength(promptTokens + (completion.usage?.completion_tokens ?? 0));
    const generatedOffsets = (logprobs.text_offset ?? []).slice(promptTokens);
    expect(generatedOffsets[0]).toBe(prompt.length);
    for (const offset of generatedOffsets) {
      expect(offset).toBeGreaterThanOrEqual(prompt.length);
      expect(offset).toBeLessThanOrEqual(choice?.text.length ?? 0);
    }

    const plain = await client.completions.create({ model: "tiny", prompt, max_tokens: 6, temperature: 0 });
    expect(plain.choices[0]?.text).toBe(direct.text);
    expect(plain.choices[0]?.logprobs).toBeNull();

    const echoOnly = await client.completions.create({ model: "tiny", prompt, max_tokens: 0, echo: true });
    expect(echoOnly.choices[0]).toMatchObject({ text: prompt, logprobs: null, finish_reason: "length" });
  });

  it("serves cai's own openai: backend's log-likelihoods and choice scores exactly", async () => {
    const remote = new OpenAILanguageModel("tiny", {
      baseURL: `${server.url}/v1`,
      apiKey: "none",
      maxRetries: 0,
    });
    for (const [prefix, continuation] of pairs) {
      const [viaServer, direct] = await Promise.all([
        remote.logLikelihood({ prefix, continuation }),
        model.logLikelihood({ prefix, continuation }),
      ]);
      expect(viaServer.tokenCount).toBe(direct.tokenCount);
      expect(Math.abs(viaServer.logprob - direct.logprob)).toBeLessThan(1e-5);
    }
    // Choices whose tokens do not merge with the prompt's (the echo method needs that; "(" + "A" merges).
    const choices = { prompt: "The answer is", choices: [" not", " here"] };
    const [viaServer, direct] = await Promise.all([
      remote.scoreChoices(choices),
      model.scoreChoices(choices),
    ]);
    expect(viaServer.method).toBe("exact");
    expect(viaServer.probabilities[0]).toBeCloseTo(direct.probabilities[0] ?? Number.NaN, 5);
  });
});
