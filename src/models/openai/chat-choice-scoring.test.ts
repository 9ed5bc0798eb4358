// What choice scoring after a chat prompt costs through `cai serve` (a real server on 127.0.0.1 over the
// generated tiny model), read from the requests the server receives: the openai: backend asks only for the
// last positions' prompt log-probabilities (`prompt_logprobs_from`), one request in all when the other
// choices are among the first's alternatives, and one request without a tokenizer when every choice is a
// listed token; its numbers stay those of in-process scoring (1e-4).
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildServer } from "../../serve/index.js";
import { testModel } from "../../test-support/test-models.js";
import { LlamaLanguageModel } from "../llama/llama-language-model.js";
import type { LanguageModel, ScoringPrompt } from "../model.js";
import { OpenAILanguageModel } from "./openai-language-model.js";

/** A request the server received: its path and JSON body. */
interface Received {
  path: string;
  body: Record<string, unknown>;
}

const question = {
  messages: [{ role: "user" as const, content: "Which is better, (A) or (B)?" }],
  assistantPrefix: "The answer is: (",
};

describe("openai: chat choice scoring through cai serve, request by request", () => {
  let llama: LlamaLanguageModel;
  let app: FastifyInstance;
  let url: string;
  const received: Received[] = [];

  beforeAll(async () => {
    llama = await LlamaLanguageModel.load(await testModel(), { threads: 1, gpu: false, parallel: 1 });
    // Not a llama.cpp model to the server: no tokenizer, no prompt log-probabilities.
    const opaque: LanguageModel = {
      provider: "custom",
      modelId: "opaque",
      fingerprint: "custom|opaque",
      capabilities: { ...llama.capabilities, scoreChoices: false, logLikelihood: false },
      generate: (options) => llama.generate(options),
    };
    app = buildServer({
      models: [
        { name: "tiny", model: llama },
        { name: "opaque", model: opaque },
      ],
    });
    app.addHook("preHandler", async (request) => {
      received.push({ path: request.url, body: (request.body ?? {}) as Record<string, unknown> });
    });
    await app.listen({ host: "127.0.0.1", port: 0 });
    const address = app.server.address();
    url = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`;
  });
  afterAll(async () => {
    await app?.close();
    await llama?.close();
  });

  /** The chat completions among the requests received since `from`. */
  const chatsSince = (from: number) => received.slice(from).filter((r) => r.path === "/v1/chat/completions");

  it("answers prompt_logprobs_from with the positions from there on, the same as the whole prompt's", async () => {
    const messages = [...question.messages, { role: "assistant" as const, content: "The answer is: (A" }];
    const body = { model: "tiny", messages, max_tokens: 1, temperature: 0, prompt_logprobs: 2 };
    const post = async (extra: object) => {
      const res = await fetch(`${url}/v1/chat/completions`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ ...body, ...extra }),
      });
      return ((await res.json()) as { prompt_logprobs: unknown[] }).prompt_logprobs;
    };
    const whole = await post({});
    const from = whole.length - 2;
    const tail = await post({ prompt_logprobs_from: from });
    expect(tail).toHaveLength(whole.length);
    expect(tail.slice(0, from).every((entry) => entry === null)).toBe(true);
    expect(tail.slice(from)).toEqual(whole.slice(from));
    expect(whole.slice(1, from).every((entry) => entry !== null)).toBe(true);
  });

  it("scores choices from the prompt's last positions only, as in-process to 1e-4", async () => {
    const remote = new OpenAILanguageModel("tiny", { baseURL: `${url}/v1`, apiKey: "none" });
    for (const [assistantPrefix, choices] of [
      // "(" + "A" merge into one token here: both backends score from the last token all renderings share.
      ["The answer is: (", ["A", "B"]],
      ["The answer is:", [" yes", " no way, not at all", " perhaps"]],
    ] as const) {
      const prompt: ScoringPrompt = { messages: question.messages, assistantPrefix };
      const start = received.length;
      const local = await llama.scoreChoices({ prompt, choices: [...choices] });
      const viaServer = await remote.scoreChoices({ prompt, choices: [...choices] });
      expect(viaServer.method).toBe("exact");
      viaServer.logprobs.forEach((l, i) => {
        expect(Math.abs(l - (local.logprobs[i] ?? Number.NaN))).toBeLessThan(1e-4);
      });
      const chats = chatsSince(start);
      expect(chats.length).toBeGreaterThan(0);
      expect(chats.length).toBeLessThanOrEqual(choices.length);
      for (const chat of chats) {
        expect(chat.body.prompt_logprobs).toBeDefined();
        expect(chat.body.prompt_logprobs_from).toBeGreaterThan(10);
      }
      expect(received.slice(start).filter((r) => r.path === "/tokenize")).toHaveLength(choices.length + 1);
    }
  });

  it("needs one request when the other choice's token is among the first's alternatives", async () => {
    const prompt: ScoringPrompt = { messages: question.messages, assistantPrefix: "The answer is:" };
    // Two of the 20 likeliest next tokens that the prompt keeps apart (one token each after it);
    // multi-character ones, since a one-character text may also be a byte-fallback token's.
    const next = await llama.generate({
      messages: [...question.messages, { role: "assistant", content: "The answer is:" }],
      maxTokens: 1,
      temperature: 0,
      logprobs: 20,
    });
    const prefix = llama.prompts.promptTokens(prompt);
    const single = (next.logprobs?.[0]?.top.map((t) => t.token) ?? []).filter((text) => {
      const whole = llama.prompts.promptTokens(prompt, text);
      return text.length > 1 && whole.length === prefix.length + 1 && prefix.every((t, i) => whole[i] === t);
    });
    const choices = [...new Set(single)].slice(0, 2);
    expect(choices).toHaveLength(2);
    const remote = new OpenAILanguageModel("tiny", { baseURL: `${url}/v1`, apiKey: "none" });
    const start = received.length;
    const local = await llama.scoreChoices({ prompt, choices });
    const viaServer = await remote.scoreChoices({ prompt, choices });
    expect(viaServer.method).toBe("exact");
    viaServer.logprobs.forEach((l, i) => {
      expect(Math.abs(l - (local.logprobs[i] ?? Number.NaN))).toBeLessThan(1e-4);
    });
    expect(chatsSince(start)).toHaveLength(1);
  });

  it("without the server's tokenizer, reads one greedy token's top_logprobs: one request", async () => {
    const plain = new OpenAILanguageModel("opaque", { baseURL: `${url}/v1`, apiKey: "none" });
    const prompt: ScoringPrompt = { messages: question.messages, assistantPrefix: "The answer is:" };
    const next = await llama.generate({
      messages: [...question.messages, { role: "assistant", content: "The answer is:" }],
      maxTokens: 1,
      temperature: 0,
      logprobs: 20,
    });
    const texts = next.logprobs?.[0]?.top.map((t) => t.token) ?? [];
    // Texts listed once (a byte-fallback token may share a character's text).
    const choices = texts
      .filter((t) => t.length > 1 && texts.indexOf(t) === texts.lastIndexOf(t))
      .slice(0, 2);
    expect(choices).toHaveLength(2);
    await plain.scoreChoices({ prompt, choices }); // learns the server has no tokenizer
    const start = received.length;
    const scores = await plain.scoreChoices({ prompt, choices });
    expect(scores.method).toBe("exact");
    const chats = chatsSince(start);
    expect(chats).toHaveLength(1);
    expect(chats[0]?.body).toMatchObject({ max_tokens: 1, logprobs: true, top_logprobs: 20 });
    expect(received.slice(start).some((r) => r.path === "/tokenize")).toBe(false);
  });
});
