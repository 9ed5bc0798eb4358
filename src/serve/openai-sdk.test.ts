// The official `openai` SDK drives `cai serve` (a real server on 127.0.0.1 over a generated model): every
// call it makes either works or gets a 4xx naming what is unsupported. Every field of the SDK's chat and
// completion request types is listed here (the `Record` types make a new SDK field a type error until it
// is audited) and sent with a value that asks for something; each is answered or refused by name.
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LlamaLanguageModel } from "../models/llama/llama-language-model.js";
import type { GenerateOptions, LanguageModel } from "../models/model.js";
import { testModel } from "../test-support/test-models.js";
import { type RunningServer, startServer } from "./index.js";

const apiKey = "sdk-key";
const messages = [{ role: "user" as const, content: "Hello, who are you?" }];

/** Every chat field the SDK has, with a value that asks for something, and whether cai serves it. */
const chatFields: Record<
  keyof OpenAI.Chat.ChatCompletionCreateParamsNonStreaming,
  { value: unknown; served: boolean }
> = {
  messages: { value: messages, served: true },
  model: { value: "tiny", served: true },
  audio: { value: { voice: "alloy", format: "mp3" }, served: false },
  frequency_penalty: { value: 0.5, served: false },
  function_call: { value: "auto", served: false },
  functions: { value: [{ name: "f", parameters: { type: "object" } }], served: false },
  logit_bias: { value: { "65": 10 }, served: false },
  logprobs: { value: true, served: true },
  max_completion_tokens: { value: 3, served: true },
  max_tokens: { value: 3, served: true },
  metadata: { value: { run: "test" }, served: true },
  modalities: { value: ["text", "audio"], served: false },
  moderation: { value: { model: "omni-moderation-latest" }, served: false },
  n: { value: 2, served: false },
  parallel_tool_calls: { value: false, served: true },
  prediction: { value: { type: "content", content: "I am" }, served: false },
  presence_penalty: { value: 0.5, served: false },
  prompt_cache_key: { value: "k", served: true },
  prompt_cache_options: { value: { mode: "implicit" }, served: true },
  prompt_cache_retention: { value: "24h", served: true },
  reasoning_effort: { value: "high", served: false },
  response_format: { value: { type: "json_object" }, served: true },
  safety_identifier: { value: "user-1", served: true },
  seed: { value: 3, served: true },
  service_tier: { value: "flex", served: false },
  stop: { value: ["\n"], served: true },
  store: { value: true, served: false },
  stream: { value: false, served: true },
  stream_options: { value: { include_usage: true }, served: true },
  temperature: { value: 0, served: true },
  tool_choice: { value: "auto", served: false },
  tools: {
    value: [{ type: "function", function: { name: "f", parameters: { type: "object" } } }],
    served: false,
  },
  top_logprobs: { value: 2, served: false },
  top_p: { value: 0.9, served: true },
  user: { value: "user-1", served: true },
  verbosity: { value: "low", served: false },
  web_search_options: { value: {}, served: false },
};

/** Every legacy completion field the SDK has, likewise. */
const completionFields: Record<
  keyof OpenAI.Completions.CompletionCreateParamsNonStreaming,
  { value: unknown; served: boolean }
> = {
  model: { value: "tiny", served: true },
  prompt: { value: "Once upon a time", served: true },
  best_of: { value: 2, served: false },
  echo: { value: true, served: true },
  frequency_penalty: { value: 0.5, served: false },
  logit_bias: { value: { "65": 10 }, served: false },
  logprobs: { value: 2, served: true },
  max_tokens: { value: 3, served: true },
  n: { value: 2, served: false },
  presence_penalty: { value: 0.5, served: false },
  seed: { value: 3, served: true },
  stop: { value: ["\n"], served: true },
  stream: { value: false, served: true },
  stream_options: { value: { include_usage: true }, served: true },
  suffix: { value: " The end.", served: false },
  temperature: { value: 0, served: true },
  top_p: { value: 0.9, served: true },
  user: { value: "user-1", served: true },
};

/** A model that says which format it was asked for (and one that cannot constrain its output). */
const formatEcho: LanguageModel = {
  provider: "echo",
  modelId: "echo",
  fingerprint: "echo",
  capabilities: {
    generate: true,
    scoreChoices: false,
    logLikelihood: false,
    generateLogprobs: false,
    structuredOutput: true,
  },
  generate: async (options: GenerateOptions) => ({
    text: JSON.stringify(options.format ?? null),
    finishReason: "stop",
    usage: { inputTokens: 1, outputTokens: 1 },
  }),
};

describe("serve: the official openai SDK, call by call", () => {
  let model: LlamaLanguageModel;
  let server: RunningServer;
  let client: OpenAI;

  beforeAll(async () => {
    model = await LlamaLanguageModel.load(await testModel(), { threads: 1, gpu: false });
    server = await startServer({
      models: [
        { name: "tiny", model },
        { name: "org/tiny", model },
        { name: "echo", model: formatEcho },
        {
          name: "plain",
          model: { ...formatEcho, capabilities: { ...formatEcho.capabilities, structuredOutput: false } },
        },
      ],
      port: 0,
      apiKey,
    });
    client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey, maxRetries: 0 });
  });
  afterAll(async () => {
    await server?.close();
    await model?.close();
  });

  it("lists and retrieves models (ids with a slash too); an unknown id is a 404 in OpenAI's shape", async () => {
    const listed = [];
    for await (const m of client.models.list()) listed.push(m.id);
    expect(listed).toEqual(["tiny", "org/tiny", "echo", "plain"]);
    const tiny = await client.models.retrieve("tiny");
    expect(tiny).toMatchObject({ id: "tiny", object: "model", owned_by: "cai" });
    expect(typeof tiny.created).toBe("number");
    expect((await client.models.retrieve("org/tiny")).id).toBe("org/tiny");
    const missing = client.models.retrieve("gpt-9");
    await expect(missing).rejects.toBeInstanceOf(OpenAI.NotFoundError);
    await expect(missing).rejects.toMatchObject({ status: 404, code: "model_not_found", param: "model" });
  });

  it("answers or refuses by name every chat field of the SDK", async () => {
    for (const [field, { value, served }] of Object.entries(chatFields)) {
      const body = { model: "tiny", messages, max_tokens: 3, temperature: 0, [field]: value };
      const call = client.chat.completions.create(body as OpenAI.Chat.ChatCompletionCreateParamsNonStreaming);
      if (served) {
        await expect(call, field).resolves.toMatchObject({ object: "chat.completion" });
      } else {
        await expect(call, field).rejects.toMatchObject({ status: 400, param: field });
      }
    }
  });

  it("answers or refuses by name every completion field of the SDK", async () => {
    for (const [field, { value, served }] of Object.entries(completionFields)) {
      const body = {
        model: "tiny",
        prompt: "Once upon a time",
        max_tokens: 3,
        temperature: 0,
        [field]: value,
      };
      const call = client.completions.create(body as OpenAI.Completions.CompletionCreateParamsNonStreaming);
      if (served) {
        await expect(call, field).resolves.toMatchObject({ object: "text_completion" });
      } else {
        await expect(call, field).rejects.toMatchObject({ status: 400, param: field });
      }
    }
  });

  it("refuses fields outside the SDK's types and message fields it cannot honour, by name", async () => {
    const unknown = client.chat.completions.create({
      model: "tiny",
      messages,
      max_tokens: 2,
      top_k: 5,
    } as never);
    await expect(unknown).rejects.toMatchObject({ status: 400, param: "top_k", code: "unknown_parameter" });
    const named = client.chat.completions.create({
      model: "tiny",
      messages: [{ role: "user", content: "hi", name: "alice" }],
      max_tokens: 2,
    });
    await expect(named).rejects.toMatchObject({ status: 400, param: "messages[0].name" });
    const tool = client.chat.completions.create({
      model: "tiny",
      messages: [...messages, { role: "tool", tool_call_id: "call_1", content: "42" }],
      max_tokens: 2,
    });
    await expect(tool).rejects.toMatchObject({ status: 400, param: "messages[1].role" });
    const image = client.chat.completions.create({
      model: "tiny",
      messages: [{ role: "user", content: [{ type: "image_url", image_url: { url: "http://x/y.png" } }] }],
      max_tokens: 2,
    });
    await expect(image).rejects.toMatchObject({ status: 400, param: "messages[0].content" });
  });

  it("passes response_format to a backend that constrains its output, and refuses it for one that cannot", async () => {
    const schema = { type: "object", properties: { verdict: { type: "string" } }, required: ["verdict"] };
    const format = { type: "json_schema" as const, json_schema: { name: "verdict", schema, strict: true } };
    const echoed = await client.chat.completions.create({ model: "echo", messages, response_format: format });
    expect(JSON.parse(echoed.choices[0]?.message.content ?? "")).toEqual({
      type: "json_schema",
      schema,
      name: "verdict",
      strict: true,
    });
    const any = await client.chat.completions.create({
      model: "echo",
      messages,
      response_format: { type: "json_object" },
    });
    expect(JSON.parse(any.choices[0]?.message.content ?? "")).toEqual({ type: "json_object" });
    // The llama: backend constrains its sampling with llama.cpp's grammar: even the random tiny model
    // writes JSON that matches the schema.
    const verdict = { type: "object", properties: { verdict: { enum: ["A", "B"] } }, required: ["verdict"] };
    for (const seed of [1, 2, 3]) {
      const constrained = await client.chat.completions.create({
        model: "tiny",
        messages,
        seed,
        temperature: 1,
        max_tokens: 64,
        response_format: { type: "json_schema", json_schema: { name: "verdict", schema: verdict } },
      });
      expect(["A", "B"]).toContain(JSON.parse(constrained.choices[0]?.message.content ?? "").verdict);
    }
    const refused = client.chat.completions.create({ model: "plain", messages, response_format: format });
    await expect(refused).rejects.toMatchObject({ status: 400, param: "response_format" });
    await expect(refused).rejects.toThrow(/cannot constrain its output to JSON/);
  });

  it("streams /v1/completions: the same text as without stream, usage when asked, [DONE]", async () => {
    const body = { model: "tiny", prompt: ["Once upon a time", "Hello"], max_tokens: 12, temperature: 0 };
    const plain = await client.completions.create(body);
    const stream = await client.completions.create({
      ...body,
      stream: true,
      stream_options: { include_usage: true },
    });
    const texts = ["", ""];
    const finish: Array<string | null> = [null, null];
    let usage: OpenAI.CompletionUsage | undefined;
    for await (const chunk of stream) {
      expect(chunk.object).toBe("text_completion");
      for (const choice of chunk.choices) {
        texts[choice.index] += choice.text;
        finish[choice.index] = choice.finish_reason ?? finish[choice.index] ?? null;
      }
      if (chunk.usage) usage = chunk.usage;
    }
    expect(texts).toEqual(plain.choices.map((c) => c.text));
    expect(finish).toEqual(plain.choices.map((c) => c.finish_reason));
    expect(usage).toEqual(plain.usage);

    const echoed = await client.completions.create({
      model: "tiny",
      prompt: "Hello",
      max_tokens: 4,
      temperature: 0,
      echo: true,
      logprobs: 1,
      stream: true,
    });
    let text = "";
    let logprobs: OpenAI.Completions.CompletionChoice.Logprobs | null = null;
    for await (const chunk of echoed) {
      text += chunk.choices[0]?.text ?? "";
      logprobs = chunk.choices[0]?.logprobs ?? logprobs;
    }
    const whole = await client.completions.create({
      model: "tiny",
      prompt: "Hello",
      max_tokens: 4,
      temperature: 0,
      echo: true,
      logprobs: 1,
    });
    expect(text).toBe(whole.choices[0]?.text);
    expect(logprobs).toEqual(whole.choices[0]?.logprobs);
  });

  it("streams chat, and says plainly that /v1/responses and other APIs are not served", async () => {
    const stream = await client.chat.completions.create({
      model: "tiny",
      messages,
      max_tokens: 6,
      stream: true,
    });
    let chunks = 0;
    for await (const chunk of stream) chunks += chunk.object === "chat.completion.chunk" ? 1 : 0;
    expect(chunks).toBeGreaterThan(1);
    const responses = client.responses.create({ model: "tiny", input: "hi" });
    await expect(responses).rejects.toBeInstanceOf(OpenAI.NotFoundError);
    await expect(responses).rejects.toThrow(/Responses API\) is not served.*\/v1\/chat\/completions/);
    const embeddings = client.embeddings.create({ model: "tiny", input: "hi" });
    await expect(embeddings).rejects.toMatchObject({ status: 404 });
    await expect(embeddings).rejects.toThrow(/cai serve answers .*POST \/v1\/chat\/completions/);
  });
});
