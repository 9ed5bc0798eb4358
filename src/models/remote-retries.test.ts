import { afterEach, describe, expect, it } from "vitest";
import { type Fault, type FaultyServer, startFaultyServer } from "../test-support/faulty-server.js";
import { AnthropicLanguageModel } from "./anthropic/anthropic-language-model.js";
import { ModelAbortedError } from "./errors/model-aborted-error.js";
import { ModelCallError } from "./errors/model-call-error.js";
import { ModelTimeoutError } from "./errors/model-timeout-error.js";
import { OpenAILanguageModel } from "./openai/openai-language-model.js";

const chatCompletion = {
  id: "chatcmpl-1",
  object: "chat.completion",
  created: 0,
  model: "m",
  choices: [
    { index: 0, message: { role: "assistant", content: "fine" }, finish_reason: "stop", logprobs: null },
  ],
  usage: { prompt_tokens: 3, completion_tokens: 1, total_tokens: 4 },
};
const anthropicMessage = {
  id: "msg_1",
  type: "message",
  role: "assistant",
  model: "m",
  content: [{ type: "text", text: "fine" }],
  stop_reason: "end_turn",
  stop_sequence: null,
  usage: { input_tokens: 3, output_tokens: 1 },
};
const ok: Fault = { kind: "ok", body: chatCompletion };
const messages = [{ role: "user" as const, content: "Hi" }];

let server: FaultyServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function openai(script: Fault[], options: { maxRetries?: number; timeoutMs?: number } = {}) {
  server = await startFaultyServer(script);
  return new OpenAILanguageModel("m", { baseURL: `${server.url}/v1`, apiKey: "k", ...options });
}

describe("retries and time limits over real HTTP", () => {
  it("waits as long as Retry-After says after a 429, then succeeds", async () => {
    const model = await openai([{ kind: "status", status: 429, headers: { "retry-after": "1" } }, ok]);
    const result = await model.generate({ messages });
    expect(result.text).toBe("fine");
    const [first, second] = server!.requests;
    expect(server!.requests).toHaveLength(2);
    expect(second!.at - first!.at).toBeGreaterThanOrEqual(950);
  });

  it("backs off exponentially over repeated 500s", async () => {
    const model = await openai([{ kind: "status", status: 500 }, { kind: "status", status: 503 }, ok]);
    expect((await model.generate({ messages })).text).toBe("fine");
    const at = server!.requests.map((r) => r.at);
    expect(at).toHaveLength(3);
    const [a, b, c] = at as [number, number, number];
    // 0.5 s then 1 s, each less up to 25% jitter.
    expect(b - a).toBeGreaterThanOrEqual(370);
    expect(c - b).toBeGreaterThanOrEqual(740);
  });

  it("retries a dropped connection", async () => {
    const model = await openai([{ kind: "drop" }, ok]);
    expect((await model.generate({ messages })).text).toBe("fine");
    expect(server!.requests).toHaveLength(2);
  });

  it("gives up with a ModelCallError carrying the status when retries run out", async () => {
    const model = await openai([{ kind: "status", status: 500 }], { maxRetries: 1 });
    const error = await model.generate({ messages }).catch((e: unknown) => e);
    expect(ModelCallError.isInstance(error)).toBe(true);
    expect((error as ModelCallError).status).toBe(500);
    expect(server!.requests).toHaveLength(2);
  });

  it("does not retry a 400: the request itself is wrong", async () => {
    const model = await openai([{ kind: "status", status: 400 }, ok]);
    await expect(model.generate({ messages })).rejects.toThrow(ModelCallError);
    expect(server!.requests).toHaveLength(1);
  });

  it("times out a slow response per call (and retries it) with a ModelTimeoutError", async () => {
    const model = await openai([{ kind: "slow", delayMs: 3000, body: chatCompletion }], { maxRetries: 1 });
    const started = performance.now();
    const error = await model.generate({ messages, timeoutMs: 200 }).catch((e: unknown) => e);
    expect(ModelTimeoutError.isInstance(error)).toBe(true);
    expect(server!.requests).toHaveLength(2);
    expect(performance.now() - started).toBeLessThan(2900);
  });

  it("stops at once when the caller aborts", async () => {
    const model = await openai([{ kind: "slow", delayMs: 3000, body: chatCompletion }]);
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    const error = await model.generate({ messages, signal: controller.signal }).catch((e: unknown) => e);
    expect(ModelAbortedError.isInstance(error)).toBe(true);
    expect(server!.requests).toHaveLength(1);
  });

  it("the anthropic backend retries an overloaded (529) server and honours Retry-After", async () => {
    server = await startFaultyServer([
      {
        kind: "status",
        status: 529,
        headers: { "retry-after": "1" },
        body: { type: "error", error: { type: "overloaded_error", message: "busy" } },
      },
      { kind: "ok", body: anthropicMessage },
    ]);
    const model = new AnthropicLanguageModel("m", { baseURL: server.url, apiKey: "k" });
    expect((await model.generate({ messages })).text).toBe("fine");
    const [first, second] = server.requests;
    expect(second!.path).toBe("/v1/messages");
    expect(second!.at - first!.at).toBeGreaterThanOrEqual(950);
  });
});
