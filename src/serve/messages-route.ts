// `POST /v1/messages`: Anthropic's Messages API (text only, plain and streamed) over any served
// `LanguageModel`, so the `anthropic:` backend and the official SDK can run against a local model; and
// `POST /v1/messages/count_tokens`, the input tokens `messages.create` would report.
import { randomUUID } from "node:crypto";
import type { FastifyBaseLogger, FastifyInstance, FastifyReply } from "fastify";
import type { GenerateOptions, GenerateResult } from "../models/model.js";
import { anthropicErrorBody } from "./anthropic-errors.js";
import {
  countTokensRequestSchema,
  messagesRequestSchema,
  outputFormatOf,
  toChatMessages,
} from "./anthropic-schemas.js";
import { toApiError } from "./openai-errors.js";
import { parseBody } from "./parse-body.js";
import { tokenizingModel } from "./request-checks.js";
import type { RequestScope } from "./request-scope.js";
import type { ServerContext } from "./server-context.js";
import { SseWriter } from "./sse.js";
import { formatOption } from "./structured-output.js";

/** Anthropic's stop reasons that a generation can end with here. */
type StopReason = "end_turn" | "max_tokens" | "stop_sequence";

/**
 * Registers the route. A final assistant message is continued (Anthropic's prefill). To tell a stop
 * sequence from the end of the turn, a request with `stop_sequences` asks the model for its generated
 * tokens (log-probabilities with no alternatives), where the backend can return them.
 */
export function registerMessagesRoute(app: FastifyInstance, context: ServerContext): void {
  app.post("/v1/messages", (request, reply) =>
    context.scopes.with(reply, async (scope): Promise<unknown> => {
      const body = parseBody(messagesRequestSchema, request.body);
      const { name, model } = context.models.resolve(body.model);
      const stops = (body.stop_sequences ?? []).filter((s) => s.length > 0);
      const options: GenerateOptions = {
        messages: toChatMessages(body),
        maxTokens: body.max_tokens,
        temperature: body.temperature ?? 1,
        topP: body.top_p ?? 1,
        stop: stops,
        ...(stops.length > 0 && model.capabilities.generateLogprobs ? { logprobs: 0 } : {}),
        ...formatOption(outputFormatOf(body), model, name, "output_config.format"),
        signal: scope.signal,
      };
      const head = {
        id: `msg_${randomUUID().replaceAll("-", "")}`,
        type: "message",
        role: "assistant",
        model: name,
      };
      const finish = (result: GenerateResult) => {
        const stopSequence = result.finishReason === "stop" ? stopSequenceOf(result, stops) : null;
        const stopReason: StopReason =
          result.finishReason === "length"
            ? "max_tokens"
            : stopSequence !== null
              ? "stop_sequence"
              : "end_turn";
        return { stop_reason: stopReason, stop_sequence: stopSequence };
      };
      if (body.stream) {
        return streamMessage(reply, scope, request.log, head, finish, (onText) =>
          model.generate({ ...options, onText }),
        );
      }
      const result = await scope.run(model.generate(options));
      return {
        ...head,
        content: [{ type: "text", text: result.text }],
        ...finish(result),
        usage: { input_tokens: result.usage.inputTokens, output_tokens: result.usage.outputTokens },
      };
    }),
  );
}

/**
 * Registers `POST /v1/messages/count_tokens`: the conversation's tokens as the model sees them (its chat
 * template applied, the assistant's turn opened), which is what `messages.create` reports as
 * `input_tokens`. Needs the model's tokenizer (the `llama:` backend).
 */
export function registerCountTokensRoute(app: FastifyInstance, context: ServerContext): void {
  app.post("/v1/messages/count_tokens", async (request) => {
    const body = parseBody(countTokensRequestSchema, request.body);
    const { model } = tokenizingModel(context, body.model);
    return { input_tokens: model.prompts.chatTokens(toChatMessages(body)).length };
  });
}

/**
 * The stop sequence that ended a generation, found in the text of its tokens: the text returned stops
 * before it, and no stop sequence occurs earlier. Null when the turn ended by itself, or when the
 * backend returned no tokens to tell.
 */
function stopSequenceOf(result: GenerateResult, stops: readonly string[]): string | null {
  if (stops.length === 0 || !result.logprobs) return null;
  const raw = result.logprobs.map((t) => t.token).join("");
  let best: { at: number; stop: string } | null = null;
  for (const stop of stops) {
    const at = raw.indexOf(stop);
    if (at >= 0 && (!best || at < best.at || (at === best.at && stop.length < best.stop.length)))
      best = { at, stop };
  }
  return best?.stop ?? null;
}

/**
 * Streams a generation as Anthropic's events: `message_start`, `content_block_start`, a
 * `content_block_delta` per piece of text, `content_block_stop`, `message_delta` (stop reason and
 * usage; the input tokens are known only here, so `message_start` reports 0) and `message_stop`.
 */
async function streamMessage(
  reply: FastifyReply,
  scope: RequestScope,
  log: FastifyBaseLogger,
  head: { id: string; type: string; role: string; model: string },
  finish: (result: GenerateResult) => { stop_reason: StopReason; stop_sequence: string | null },
  generate: (onText: (delta: string) => void) => Promise<GenerateResult>,
): Promise<FastifyReply> {
  const sse = new SseWriter(reply);
  const start = () => {
    if (sse.started) return;
    sse.event("message_start", {
      type: "message_start",
      message: {
        ...head,
        content: [],
        stop_reason: null,
        stop_sequence: null,
        usage: { input_tokens: 0, output_tokens: 0 },
      },
    });
    sse.event("content_block_start", {
      type: "content_block_start",
      index: 0,
      content_block: { type: "text", text: "" },
    });
  };
  try {
    const result = await scope.run(
      generate((delta) => {
        if (!delta || scope.reason) return;
        start();
        sse.event("content_block_delta", {
          type: "content_block_delta",
          index: 0,
          delta: { type: "text_delta", text: delta },
        });
      }),
    );
    start();
    sse.event("content_block_stop", { type: "content_block_stop", index: 0 });
    sse.event("message_delta", {
      type: "message_delta",
      delta: finish(result),
      usage: { input_tokens: result.usage.inputTokens, output_tokens: result.usage.outputTokens },
    });
    sse.event("message_stop", { type: "message_stop" });
  } catch (error) {
    if (!sse.started) throw error;
    const api = toApiError(error);
    if (api.status >= 500 && api.status !== 503 && api.status !== 504)
      log.error({ err: error }, "message stream failed");
    if (api.code !== "client_closed") sse.event("error", anthropicErrorBody(api));
  } finally {
    sse.end();
  }
  return reply;
}
