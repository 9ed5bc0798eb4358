import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ModelAbortedError } from "../models/errors/model-aborted-error.js";
import { LlamaLanguageModel } from "../models/llama/llama-language-model.js";
import type { GenerateOptions, GenerateResult, LanguageModel } from "../models/model.js";
import { testModel } from "../test-support/test-models.js";
import { buildServer, type RunningServer, startServer } from "./index.js";

const apiKey = "test-key";

/** A model that is not llama.cpp, answering with `generate`. */
function fakeModel(generate: (options: GenerateOptions) => Promise<GenerateResult>): LanguageModel {
  return {
    provider: "fake",
    modelId: "fake",
    fingerprint: "fake",
    capabilities: { generate: true, scoreChoices: false, logLikelihood: false, generateLogprobs: false },
    generate,
  };
}

/** A model that writes `first` and then waits until it is aborted (calling `onCall` first). */
const stalling = (first: string, onCall = () => {}) =>
  fakeModel(async (options) => {
    onCall();
    options.onText?.(first);
    await new Promise((resolve) => options.signal?.addEventListener("abort", resolve, { once: true }));
    throw new ModelAbortedError("fake");
  });

/** The `error` object of an OpenAI-style error answer. */
async function errorOf(
  res: Response,
): Promise<{ message: string; type: string; param: string | null; code: string | null }> {
  return (
    (await res.json()) as {
      error: { message: string; type: string; param: string | null; code: string | null };
    }
  ).error;
}

const done = (text: string): GenerateResult => ({
  text,
  finishReason: "stop",
  usage: { inputTokens: 1, outputTokens: 1 },
});

describe("serve: HTTP errors, auth, limits and timeouts", () => {
  let model: LlamaLanguageModel;
  const servers: RunningServer[] = [];
  let server: RunningServer;

  async function start(options: Omit<Parameters<typeof startServer>[0], "port">): Promise<RunningServer> {
    const started = await startServer({ ...options, port: 0 });
    servers.push(started);
    return started;
  }

  function post(base: RunningServer, path: string, body: unknown, headers: Record<string, string> = {}) {
    return fetch(`${base.url}${path}`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${apiKey}`, ...headers },
      body: typeof body === "string" ? body : JSON.stringify(body),
    });
  }

  const chat = {
    model: "tiny",
    messages: [{ role: "user", content: "Hello" }],
    max_tokens: 4,
    temperature: 0,
  };

  beforeAll(async () => {
    model = await LlamaLanguageModel.load(await testModel(), { threads: 1, gpu: false });
    server = await start({ models: [{ name: "tiny", model }], apiKey, bodyLimitBytes: 1024 });
  });
  afterAll(async () => {
    for (const s of servers) await s.close();
    await model?.close();
  });

  it("leaves /health open and asks every /v1 route for the key", async () => {
    const health = await fetch(`${server.url}/health`);
    expect(await health.json()).toEqual({ status: "ok", models: ["tiny"] });

    const without = await fetch(`${server.url}/v1/models`);
    expect(without.status).toBe(401);
    expect((await errorOf(without)).code).toBe("invalid_api_key");
    const wrong = await fetch(`${server.url}/v1/models`, { headers: { authorization: "Bearer nope" } });
    expect(wrong.status).toBe(401);
    const noKeyChat = await post(server, "/v1/chat/completions", chat, { authorization: "" });
    expect(noKeyChat.status).toBe(401);

    const right = await fetch(`${server.url}/v1/models`, { headers: { authorization: `Bearer ${apiKey}` } });
    expect(right.status).toBe(200);
    const list = (await right.json()) as { data: Array<{ created: unknown }> };
    expect(list).toMatchObject({ object: "list", data: [{ id: "tiny", object: "model", owned_by: "cai" }] });
    expect(typeof list.data[0]?.created).toBe("number");
  });

  it("answers 413 to a body over the limit, 400 to malformed JSON, 415 to other content types", async () => {
    const big = await post(server, "/v1/chat/completions", {
      ...chat,
      messages: [{ role: "user", content: "x".repeat(4096) }],
    });
    expect(big.status).toBe(413);
    expect(await errorOf(big)).toMatchObject({
      type: "invalid_request_error",
      code: "request_too_large",
    });

    const malformed = await post(server, "/v1/chat/completions", '{"messages": [');
    expect(malformed.status).toBe(400);
    expect((await errorOf(malformed)).type).toBe("invalid_request_error");

    const text = await post(server, "/v1/chat/completions", "hello", { "content-type": "text/plain" });
    expect(text.status).toBe(415);
    expect((await errorOf(text)).message).toMatch(/application\/json/);
  });

  it("names missing and invalid fields, and rejects unsupported options", async () => {
    const missing = await post(server, "/v1/chat/completions", { model: "tiny" });
    expect(missing.status).toBe(400);
    const error = await errorOf(missing);
    expect(error.message).toContain("messages: Required");
    expect(error.param).toBe("messages");

    const badRole = await post(server, "/v1/chat/completions", {
      messages: [{ role: "robot", content: "hi" }],
    });
    expect((await errorOf(badRole)).message).toContain("messages[0].role");

    const n2 = await post(server, "/v1/chat/completions", { ...chat, n: 2 });
    expect(n2.status).toBe(400);
    expect((await errorOf(n2)).message).toContain("n:");

    const suffix = await post(server, "/v1/completions", { prompt: "Hi", suffix: "end" });
    expect(suffix.status).toBe(400);
    expect(await errorOf(suffix)).toMatchObject({ param: "suffix", code: "unsupported_parameter" });

    const unknown = await post(server, "/v1/chat/completions", { ...chat, temprature: 0.5 });
    expect(unknown.status).toBe(400);
    expect(await errorOf(unknown)).toMatchObject({ param: "temprature", code: "unknown_parameter" });
  });

  it("answers 404 to an unknown model (listing the served ones) and to an unknown route, in JSON", async () => {
    const unknown = await post(server, "/v1/chat/completions", { ...chat, model: "gpt-9" });
    expect(unknown.status).toBe(404);
    const error = await errorOf(unknown);
    expect(error.code).toBe("model_not_found");
    expect(error.message).toContain("tiny");

    const route = await post(server, "/v1/nothing-here", {});
    expect(route.status).toBe(404);
    expect((await errorOf(route)).code).toBe("not_found");
  });

  it("maps the model's InvalidRequestError to 400 (a request larger than the context)", async () => {
    const res = await post(server, "/v1/chat/completions", { ...chat, max_tokens: 50_000 });
    expect(res.status).toBe(400);
    expect((await errorOf(res)).message).toMatch(/context size/);
  });

  it("answers 504 in JSON when a request runs past its time limit, and keeps serving", async () => {
    const slow = await start({ models: [{ name: "tiny", model }], requestTimeoutMs: 1 });
    const res = await post(slow, "/v1/chat/completions", { ...chat, max_tokens: 1000 });
    expect(res.status).toBe(504);
    expect(await errorOf(res)).toMatchObject({ type: "timeout_error", code: "request_timeout" });
    // The aborted generation freed its sequence: the model still answers.
    const after = await post(server, "/v1/chat/completions", chat);
    expect(after.status).toBe(200);
  });

  it("hides unexpected errors behind a 500, and refuses /v1/completions for models that are not llama.cpp", async () => {
    const failing = fakeModel(async () => {
      throw new Error("secret detail /home/someone/file.ts:12");
    });
    const other = await start({ models: [{ name: "fake", model: failing }] });
    const res = await post(other, "/v1/chat/completions", { messages: [{ role: "user", content: "hi" }] });
    expect(res.status).toBe(500);
    const text = await res.text();
    expect(text).not.toContain("secret");
    expect(JSON.parse(text).error.type).toBe("server_error");

    const completion = await post(other, "/v1/completions", { prompt: "hi" });
    expect(completion.status).toBe(400);
    expect(await errorOf(completion)).toMatchObject({
      param: "model",
      message: expect.stringContaining("llama"),
    });
  });

  it("runs requests concurrently", async () => {
    // Each call waits until both have arrived: served one at a time, neither would finish.
    let arrived = 0;
    let release = () => {};
    const both = new Promise<void>((resolve) => {
      release = resolve;
    });
    const barrier = fakeModel(async () => {
      arrived += 1;
      if (arrived === 2) release();
      await both;
      return done("ok");
    });
    const concurrent = await start({ models: [{ name: "barrier", model: barrier }], requestTimeoutMs: 5000 });
    const body = { messages: [{ role: "user", content: "hi" }] };
    const answers = await Promise.all([
      post(concurrent, "/v1/chat/completions", body),
      post(concurrent, "/v1/chat/completions", body),
    ]);
    expect(answers.map((a) => a.status)).toEqual([200, 200]);
  });

  it("aborts the generation when the client disconnects mid-stream", async () => {
    let sawAbort = () => {};
    const aborted = new Promise<void>((resolve) => {
      sawAbort = resolve;
    });
    const endless = fakeModel(async (options) => {
      for (let i = 0; ; i += 1) {
        if (options.signal?.aborted) {
          sawAbort();
          throw new ModelAbortedError("fake");
        }
        options.onText?.(`t${i} `);
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    });
    const streaming = await start({ models: [{ name: "endless", model: endless }] });
    const controller = new AbortController();
    const res = await fetch(`${streaming.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ messages: [{ role: "user", content: "hi" }], stream: true }),
      signal: controller.signal,
    });
    expect(res.headers.get("content-type")).toMatch(/text\/event-stream/);
    const reader = res.body?.getReader();
    const first = await reader?.read();
    expect(new TextDecoder().decode(first?.value)).toContain("chat.completion.chunk");
    controller.abort();
    await aborted;
  });

  it("ends a stream that runs past its time limit with an error event, which the SDK raises", async () => {
    const slow = await start({
      models: [{ name: "stall", model: stalling("Hello") }],
      requestTimeoutMs: 100,
    });
    const client = new OpenAI({ baseURL: `${slow.url}/v1`, apiKey: "none", maxRetries: 0 });
    const stream = await client.chat.completions.create({
      messages: [{ role: "user", content: "hi" }],
      model: "stall",
      stream: true,
    });
    const received: string[] = [];
    const reading = (async () => {
      for await (const chunk of stream) received.push(chunk.choices[0]?.delta?.content ?? "");
    })();
    await expect(reading).rejects.toThrow(/longer than 100 ms/);
    expect(received.join("")).toBe("Hello");
  });

  it("stops requests in flight when the server closes, answering 503", async () => {
    let called = () => {};
    const generating = new Promise<void>((resolve) => {
      called = resolve;
    });
    const closing = await startServer({ models: [{ name: "stall", model: stalling("", called) }], port: 0 });
    const pending = post(closing, "/v1/chat/completions", { messages: [{ role: "user", content: "hi" }] });
    await generating;
    await closing.close();
    const res = await pending;
    expect(res.status).toBe(503);
    expect((await errorOf(res)).code).toBe("server_closing");
  });

  it("builds a server that answers inject() without listening", async () => {
    const app = buildServer({ models: [{ name: "echo", model: fakeModel(async () => done("hi")) }], apiKey });
    try {
      expect((await app.inject({ method: "GET", url: "/health" })).json()).toEqual({
        status: "ok",
        models: ["echo"],
      });
      const denied = await app.inject({ method: "GET", url: "/v1/models" });
      expect(denied.statusCode).toBe(401);
      const answer = await app.inject({
        method: "POST",
        url: "/v1/chat/completions",
        headers: { authorization: `Bearer ${apiKey}` },
        payload: { messages: [{ role: "user", content: "x" }] },
      });
      expect(answer.json()).toMatchObject({
        object: "chat.completion",
        choices: [{ message: { content: "hi" } }],
      });
    } finally {
      await app.close();
    }
  });
});
