import Anthropic from "@anthropic-ai/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AnthropicLanguageModel } from "../models/anthropic/anthropic-language-model.js";
import { LlamaLanguageModel } from "../models/llama/llama-language-model.js";
import { testModel } from "../test-support/test-models.js";
import { type RunningServer, startServer } from "./index.js";

const apiKey = "anthropic-key";
const request = {
  model: "tiny",
  max_tokens: 20,
  temperature: 0,
  system: "You are terse.",
  messages: [{ role: "user" as const, content: "Hello, who are you?" }],
};
const asChat = [
  { role: "system" as const, content: request.system },
  { role: "user" as const, content: "Hello, who are you?" },
];

describe("serve: /v1/messages through the official Anthropic SDK", () => {
  let model: LlamaLanguageModel;
  let server: RunningServer;
  let client: Anthropic;

  beforeAll(async () => {
    model = await LlamaLanguageModel.load(await testModel(), { threads: 1, gpu: false });
    server = await startServer({ models: [{ name: "tiny", model }], port: 0, apiKey });
    // The SDK appends /v1/messages to the base URL: give it the server's root.
    client = new Anthropic({ baseURL: server.url, apiKey, maxRetries: 0 });
  });
  afterAll(async () => {
    await server?.close();
    await model?.close();
  });

  it("answers messages.create and a streamed messages.stream with the same message", async () => {
    const direct = await model.generate({ messages: asChat, maxTokens: 20, temperature: 0 });
    const message = await client.messages.create(request);
    expect(message).toMatchObject({
      type: "message",
      role: "assistant",
      model: "tiny",
      content: [{ type: "text", text: direct.text }],
      usage: { input_tokens: direct.usage.inputTokens, output_tokens: direct.usage.outputTokens },
    });
    expect(message.id).toMatch(/^msg_/);
    expect(["end_turn", "max_tokens"]).toContain(message.stop_reason);

    const texts: string[] = [];
    const streamed = await client.messages
      .stream(request)
      .on("text", (delta) => texts.push(delta))
      .finalMessage();
    expect(streamed.content).toEqual(message.content);
    expect(texts.join("")).toBe(direct.text);
    expect(streamed.stop_reason).toBe(message.stop_reason);
    expect(streamed.usage).toMatchObject(message.usage);
  });

  it("reports the stop sequence that ended the text", async () => {
    const full = (await client.messages.create(request)).content
      .map((b) => (b.type === "text" ? b.text : ""))
      .join("");
    const stop = full.slice(3, 5);
    const message = await client.messages.create({ ...request, stop_sequences: ["never-generated", stop] });
    expect(message.content).toEqual([{ type: "text", text: full.slice(0, full.indexOf(stop)) }]);
    expect(message.stop_reason).toBe("stop_sequence");
    expect(message.stop_sequence).toBe(stop);
  });

  it("takes the key in x-api-key too, and answers errors in Anthropic's shape", async () => {
    const post = (headers: Record<string, string>, body: unknown) =>
      fetch(`${server.url}/v1/messages`, {
        method: "POST",
        headers: { "content-type": "application/json", ...headers },
        body: JSON.stringify(body),
      });
    expect((await post({ "x-api-key": apiKey }, request)).status).toBe(200);

    const denied = await post({ "x-api-key": "wrong" }, request);
    expect(denied.status).toBe(401);
    expect(await denied.json()).toMatchObject({ type: "error", error: { type: "authentication_error" } });

    const invalid = await post({ "x-api-key": apiKey }, { model: "tiny", messages: request.messages });
    expect(invalid.status).toBe(400);
    const body = (await invalid.json()) as { error: { message: string } };
    expect(body).toMatchObject({ type: "error", error: { type: "invalid_request_error" } });
    expect(body.error.message).toContain("max_tokens: Required");

    const sdkError = client.messages.create({ ...request, model: "claude-none" });
    await expect(sdkError).rejects.toBeInstanceOf(Anthropic.NotFoundError);
  });

  it("serves cai's own anthropic: backend, plain and streamed", async () => {
    const remote = new AnthropicLanguageModel("tiny", { baseURL: server.url, apiKey, maxRetries: 0 });
    const direct = await model.generate({ messages: asChat, maxTokens: 16, temperature: 0 });
    const plain = await remote.generate({ messages: asChat, maxTokens: 16, temperature: 0 });
    expect(plain.text).toBe(direct.text);
    const pieces: string[] = [];
    const streamed = await remote.generate({
      messages: asChat,
      maxTokens: 16,
      temperature: 0,
      onText: (d) => pieces.push(d),
    });
    expect(streamed.text).toBe(direct.text);
    expect(pieces.join("")).toBe(direct.text);
  });
});
