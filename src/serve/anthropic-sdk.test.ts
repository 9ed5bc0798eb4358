// The official `@anthropic-ai/sdk` drives `cai serve` (a real server on 127.0.0.1 over a generated model):
// messages create/stream/countTokens and models list/retrieve work in Anthropic's shapes, and every field
// of the SDK's `messages.create` params (listed here: a new SDK field is a type error until audited) is
// answered or refused with a 400 whose message names it.
import Anthropic from "@anthropic-ai/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LlamaLanguageModel } from "../models/llama/llama-language-model.js";
import { testModel } from "../test-support/test-models.js";
import { type RunningServer, startServer } from "./index.js";

const apiKey = "anthropic-sdk-key";
const messages = [{ role: "user" as const, content: "Hello, who are you?" }];

/** Every field of the SDK's `messages.create` params, with a value that asks for something. */
const messageFields: Record<
  keyof Anthropic.MessageCreateParamsNonStreaming,
  { value: unknown; served: boolean }
> = {
  max_tokens: { value: 3, served: true },
  messages: { value: messages, served: true },
  model: { value: "tiny", served: true },
  cache_control: { value: { type: "ephemeral" }, served: true },
  container: { value: "container_1", served: false },
  diagnostics: { value: { previous_message_id: "msg_1" }, served: true },
  inference_geo: { value: "us", served: true },
  metadata: { value: { user_id: "user-1" }, served: true },
  output_config: { value: { format: { type: "json_schema", schema: { type: "object" } } }, served: true },
  service_tier: { value: "auto", served: true },
  speed: { value: "fast", served: false },
  stop_sequences: { value: ["\n"], served: true },
  stream: { value: false, served: true },
  system: { value: "Be brief.", served: true },
  thinking: { value: { type: "enabled", budget_tokens: 1024 }, served: false },
  tool_choice: { value: { type: "auto" }, served: false },
  tools: { value: [{ name: "f", input_schema: { type: "object" } }], served: false },
  user_profile_id: { value: "profile-1", served: true },
  workspace_id: { value: "workspace-1", served: true },
};

describe("serve: the official Anthropic SDK, call by call", () => {
  let model: LlamaLanguageModel;
  let server: RunningServer;
  let client: Anthropic;

  beforeAll(async () => {
    model = await LlamaLanguageModel.load(await testModel(), { threads: 1, gpu: false, contextSize: 2048 });
    server = await startServer({
      models: [
        { name: "tiny", model },
        { name: "tiny-2", model },
      ],
      port: 0,
      apiKey,
    });
    client = new Anthropic({ baseURL: server.url, apiKey, maxRetries: 0 });
  });
  afterAll(async () => {
    await server?.close();
    await model?.close();
  });

  it("lists and retrieves models in Anthropic's shape (paged), a 404 for an unknown id", async () => {
    const listed = [];
    for await (const m of client.models.list({ limit: 1 })) listed.push(m);
    expect(listed.map((m) => m.id)).toEqual(["tiny", "tiny-2"]);
    expect(listed[0]).toMatchObject({ type: "model", display_name: "tiny", max_input_tokens: 2048 });
    expect(Number.isNaN(Date.parse(listed[0]?.created_at ?? ""))).toBe(false);
    const tiny = await client.models.retrieve("tiny");
    expect(tiny).toMatchObject({ type: "model", id: "tiny" });
    const missing = client.models.retrieve("claude-9");
    await expect(missing).rejects.toBeInstanceOf(Anthropic.NotFoundError);
    await expect(missing).rejects.toMatchObject({
      error: { type: "error", error: { type: "not_found_error" } },
    });
  });

  it("counts a conversation's tokens as messages.create reports them", async () => {
    const request = { model: "tiny", system: "Be brief.", messages };
    const counted = await client.messages.countTokens(request);
    const message = await client.messages.create({ ...request, max_tokens: 2 });
    expect(counted.input_tokens).toBe(message.usage.input_tokens);
    expect(counted.input_tokens).toBeGreaterThan(5);
    const withTools = client.messages.countTokens({
      ...request,
      tools: [{ name: "f", input_schema: { type: "object" } }],
    });
    await expect(withTools).rejects.toBeInstanceOf(Anthropic.BadRequestError);
    await expect(withTools).rejects.toThrow(/tools: cai serve does not call tools/);
  });

  it("answers or refuses by name every messages.create field of the SDK", async () => {
    for (const [field, { value, served }] of Object.entries(messageFields)) {
      const body = { model: "tiny", max_tokens: 3, messages, [field]: value };
      const call = client.messages.create(body as Anthropic.MessageCreateParamsNonStreaming);
      if (served) {
        await expect(call, field).resolves.toMatchObject({ type: "message" });
      } else {
        await expect(call, field).rejects.toMatchObject({
          status: 400,
          error: { type: "error", error: { type: "invalid_request_error" } },
        });
        await expect(call, field).rejects.toThrow(new RegExp(`\\b${field}\\b`));
      }
    }
    // Sampling fields the API has long taken, and one cai does not implement.
    const sampled = { model: "tiny", max_tokens: 3, messages, temperature: 0.5, top_p: 0.9 };
    await expect(client.messages.create(sampled)).resolves.toMatchObject({ type: "message" });
    const topK = client.messages.create({
      ...sampled,
      top_k: 5,
    } as Anthropic.MessageCreateParamsNonStreaming);
    await expect(topK).rejects.toThrow(/top_k: top-k sampling is not implemented/);
    const unknown = client.messages.create({
      ...sampled,
      temprature: 1,
    } as Anthropic.MessageCreateParamsNonStreaming);
    await expect(unknown).rejects.toThrow(/temprature: not a field cai serve implements/);
  });

  it("streams a message, and refuses what it cannot stream by name", async () => {
    const texts: string[] = [];
    const streamed = await client.messages
      .stream({ model: "tiny", max_tokens: 8, temperature: 0, messages })
      .on("text", (t) => texts.push(t))
      .finalMessage();
    expect(streamed.content).toEqual([{ type: "text", text: texts.join("") }]);
    const image = client.messages.create({
      model: "tiny",
      max_tokens: 3,
      messages: [
        {
          role: "user",
          content: [{ type: "image", source: { type: "url", url: "http://example.com/cat.png" } }],
        },
      ],
    });
    await expect(image).rejects.toThrow(/messages\[0\]\.content: must be a string or an array of/);
  });
});
