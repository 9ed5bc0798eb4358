import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LlamaLanguageModel } from "../models/llama/llama-language-model.js";
import { OpenAILanguageModel } from "../models/openai/openai-language-model.js";
import { testModel } from "../test-support/test-models.js";
import { type RunningServer, startServer } from "./index.js";

const apiKey = "chat-key";
const messages = [{ role: "user" as const, content: "Hello, who are you?" }];

describe("serve: /v1/chat/completions through the official openai SDK", () => {
  let model: LlamaLanguageModel;
  let server: RunningServer;
  let client: OpenAI;

  beforeAll(async () => {
    model = await LlamaLanguageModel.load(await testModel(), { threads: 1, gpu: false });
    server = await startServer({ models: [{ name: "tiny", model }], port: 0, apiKey });
    client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey, maxRetries: 0 });
  });
  afterAll(async () => {
    await server?.close();
    await model?.close();
  });

  it("reads a plain and a streamed completion: the same text at temperature 0, with usage", async () => {
    const plain = await client.chat.completions.create({
      model: "tiny",
      messages,
      max_tokens: 24,
      temperature: 0,
    });
    expect(plain.object).toBe("chat.completion");
    expect(plain.id).toMatch(/^chatcmpl-/);
    expect(plain.model).toBe("tiny");
    const choice = plain.choices[0];
    expect(choice?.message.role).toBe("assistant");
    expect(choice?.message.content?.length).toBeGreaterThan(0);
    expect(["stop", "length"]).toContain(choice?.finish_reason);
    expect(choice?.logprobs).toBeNull();
    expect(plain.usage?.completion_tokens).toBeGreaterThan(0);
    expect(plain.usage?.total_tokens).toBe(
      (plain.usage?.prompt_tokens ?? 0) + (plain.usage?.completion_tokens ?? 0),
    );

    const direct = await model.generate({ messages, maxTokens: 24, temperature: 0 });
    expect(choice?.message.content).toBe(direct.text);

    const stream = await client.chat.completions.create({
      model: "tiny",
      messages,
      max_tokens: 24,
      temperature: 0,
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = "";
    let role: string | undefined;
    let finish: string | null | undefined;
    let usage: OpenAI.CompletionUsage | null | undefined;
    for await (const chunk of stream) {
      expect(chunk.object).toBe("chat.completion.chunk");
      const delta = chunk.choices[0]?.delta;
      role ??= delta?.role;
      text += delta?.content ?? "";
      finish = chunk.choices[0]?.finish_reason ?? finish;
      if (chunk.usage) usage = chunk.usage;
    }
    expect(role).toBe("assistant");
    expect(text).toBe(choice?.message.content);
    expect(finish).toBe(choice?.finish_reason);
    expect(usage).toEqual(plain.usage);
  });

  it("returns log-probabilities with sorted alternatives when asked, plain and streamed", async () => {
    const completion = await client.chat.completions.create({
      model: "tiny",
      messages,
      max_tokens: 8,
      temperature: 0,
      logprobs: true,
      top_logprobs: 3,
    });
    const content = completion.choices[0]?.logprobs?.content ?? [];
    expect(content).toHaveLength(completion.usage?.completion_tokens ?? -1);
    for (const token of content) {
      expect(token.logprob).toBeLessThanOrEqual(0);
      expect(token.bytes).toEqual([...Buffer.from(token.token)]);
      expect(token.top_logprobs).toHaveLength(3);
      const alternatives = token.top_logprobs.map((t) => t.logprob);
      expect(alternatives).toEqual([...alternatives].sort((a, b) => b - a));
      // Greedy: the chosen token is the most likely one.
      expect(token.top_logprobs[0]?.logprob).toBeCloseTo(token.logprob, 9);
    }

    const runner = client.chat.completions.stream({
      model: "tiny",
      messages,
      max_tokens: 8,
      temperature: 0,
      logprobs: true,
      top_logprobs: 3,
    });
    const final = await runner.finalChatCompletion();
    expect(final.choices[0]?.message.content).toBe(completion.choices[0]?.message.content);
    expect(final.choices[0]?.logprobs?.content?.map((t) => t.token)).toEqual(content.map((t) => t.token));
  });

  it("continues a final assistant message (vLLM's continue_final_message) and stops at stop strings", async () => {
    const prefill = [...messages, { role: "assistant" as const, content: "I am" }];
    const body = {
      model: "tiny",
      messages: prefill,
      max_tokens: 12,
      temperature: 0,
      continue_final_message: true,
      add_generation_prompt: false,
    };
    const continued = await client.chat.completions.create(body);
    const direct = await model.generate({ messages: prefill, maxTokens: 12, temperature: 0 });
    expect(continued.choices[0]?.message.content).toBe(direct.text);

    const wrong = client.chat.completions.create({ ...body, messages });
    await expect(wrong).rejects.toMatchObject({ status: 400, param: "continue_final_message" });

    const full = direct.text;
    const stop = full.slice(3, 5);
    const stopped = await client.chat.completions.create({ ...body, stop: [stop] });
    expect(stopped.choices[0]?.message.content).toBe(full.slice(0, full.indexOf(stop)));
    expect(stopped.choices[0]?.finish_reason).toBe("stop");
  });

  it("serves cai's own openai: backend (generate, streamed generate)", async () => {
    const remote = new OpenAILanguageModel("tiny", { baseURL: `${server.url}/v1`, apiKey, maxRetries: 0 });
    const direct = await model.generate({ messages, maxTokens: 16, temperature: 0 });
    const plain = await remote.generate({ messages, maxTokens: 16, temperature: 0 });
    expect(plain.text).toBe(direct.text);
    expect(plain.usage).toEqual(direct.usage);
    const pieces: string[] = [];
    const streamed = await remote.generate({
      messages,
      maxTokens: 16,
      temperature: 0,
      onText: (d) => pieces.push(d),
    });
    expect(streamed.text).toBe(direct.text);
    expect(pieces.join("")).toBe(direct.text);
  });
});
