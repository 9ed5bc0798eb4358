// `POST /v1/chat/completions`: OpenAI's chat API (plain and streamed) over any served `LanguageModel`,
// with vLLM's `continue_final_message` for prefilled assistant answers and `prompt_logprobs` for scoring
// a chat prompt's own tokens exactly.
import { randomUUID } from "node:crypto";
import type { FastifyBaseLogger, FastifyInstance, FastifyReply } from "fastify";
import { LlamaLanguageModel } from "../models/llama/llama-language-model.js";
import type { GenerateOptions, GenerateResult } from "../models/model.js";
import { chatLogprobs } from "./logprobs-format.js";
import { ApiError, openAIErrorBody, toApiError } from "./openai-errors.js";
import {
  type ChatCompletionRequest,
  chatCompletionRequestSchema,
  stopList,
  toChatMessages,
} from "./openai-schemas.js";
import { parseBody } from "./parse-body.js";
import type { RequestScope } from "./request-scope.js";
import type { ServerContext } from "./server-context.js";
import { SseWriter } from "./sse.js";

/** Default `max_tokens` when a request sets none. */
const defaultMaxTokens = 256;

/**
 * Registers the route. A final assistant message is always continued (the model contract's prefill),
 * whether or not `continue_final_message` is set; `continue_final_message: true` requires one.
 * `add_generation_prompt: false` without it is accepted but changes nothing: the contract always opens
 * the assistant's turn.
 */
export function registerChatCompletionsRoute(app: FastifyInstance, context: ServerContext): void {
  app.post("/v1/chat/completions", (request, reply) =>
    context.scopes.with(reply, async (scope): Promise<unknown> => {
      const body = parseBody(chatCompletionRequestSchema, request.body);
      const { name, model } = context.models.resolve(body.model);
      const options = generateOptions(body, model.capabilities.generateLogprobs, name);
      const head = {
        id: `chatcmpl-${randomUUID().replaceAll("-", "")}`,
        created: Math.floor(Date.now() / 1000),
        model: name,
      };
      if (body.stream && body.prompt_logprobs !== null && body.prompt_logprobs !== undefined)
        throw new ApiError(
          400,
          "prompt_logprobs: not available with stream: true",
          "invalid_request_error",
          "invalid_value",
          "prompt_logprobs",
        );
      if (body.stream) {
        const includeUsage = body.stream_options?.include_usage === true;
        return streamChat(reply, scope, request.log, head, includeUsage, (onText) =>
          model.generate({ ...options, signal: scope.signal, onText }),
        );
      }
      const promptLogprobs =
        body.prompt_logprobs === null || body.prompt_logprobs === undefined
          ? undefined
          : await scope.run(
              chatPromptLogprobs(model, name, options.messages, body.prompt_logprobs, scope.signal),
            );
      const result = await scope.run(model.generate({ ...options, signal: scope.signal }));
      return {
        ...head,
        object: "chat.completion",
        ...(promptLogprobs ? { prompt_logprobs: promptLogprobs } : {}),
        choices: [
          {
            index: 0,
            message: { role: "assistant", content: result.text },
            logprobs: result.logprobs && body.logprobs ? chatLogprobs(result.logprobs) : null,
            finish_reason: result.finishReason,
          },
        ],
        usage: usage(result),
      };
    }),
  );
}

/** One prompt position of vLLM's `prompt_logprobs`: token id → its log-probability (and rank when known). */
type PromptLogprobEntry = Record<string, { logprob: number; rank?: number; decoded_token: string }>;

/**
 * vLLM's `prompt_logprobs` for a chat request: the messages rendered as the model sees them (a final
 * assistant message continued), then for each token after the first its log-probability given the
 * tokens before it, and the `top` most likely alternatives (`rank` 1…top; the prompt token's rank is
 * given when it is among them). Needs a model that can score its own prompt (the `llama:` backend).
 */
async function chatPromptLogprobs(
  model: unknown,
  name: string,
  messages: GenerateOptions["messages"],
  top: number,
  signal: AbortSignal,
): Promise<Array<PromptLogprobEntry | null>> {
  if (!(model instanceof LlamaLanguageModel))
    throw new ApiError(
      400,
      `prompt_logprobs: the model ${name} cannot score its prompt`,
      "invalid_request_error",
      "unsupported_capability",
      "prompt_logprobs",
    );
  const tokens = model.prompts.chatTokens(messages);
  const scored = await model.promptLogprobs(tokens, top, signal);
  return scored.map((entry, i) => {
    const token = tokens[i];
    if (entry === null || token === undefined) return null;
    const result: PromptLogprobEntry = {};
    entry.top.forEach((alternative, k) => {
      result[String(alternative.token)] = {
        logprob: alternative.logprob,
        rank: k + 1,
        decoded_token: model.detokenize([alternative.token], { special: true }),
      };
    });
    const rank = entry.top.findIndex((alternative) => alternative.token === token);
    result[String(token)] = {
      logprob: entry.logprob,
      ...(rank >= 0 ? { rank: rank + 1 } : {}),
      decoded_token: model.detokenize([token], { special: true }),
    };
    return result;
  });
}

/** The generation options a request asks for (without signal and streaming callback). */
function generateOptions(
  body: ChatCompletionRequest,
  canLogprobs: boolean,
  modelName: string,
): GenerateOptions {
  const messages = toChatMessages(body.messages);
  if (body.continue_final_message) {
    if (messages[messages.length - 1]?.role !== "assistant") {
      throw new ApiError(
        400,
        "continue_final_message: the last message must be the assistant's, to be continued",
        "invalid_request_error",
        "invalid_value",
        "continue_final_message",
      );
    }
    if (body.add_generation_prompt === true) {
      throw new ApiError(
        400,
        "add_generation_prompt: cannot be true together with continue_final_message",
        "invalid_request_error",
        "invalid_value",
        "add_generation_prompt",
      );
    }
  }
  if (!body.logprobs && (body.top_logprobs ?? 0) > 0) {
    throw new ApiError(
      400,
      "top_logprobs: requires logprobs: true",
      "invalid_request_error",
      "invalid_value",
      "top_logprobs",
    );
  }
  if (body.logprobs && !canLogprobs) {
    throw new ApiError(
      400,
      `logprobs: the model ${modelName} cannot return log-probabilities`,
      "invalid_request_error",
      "unsupported_capability",
      "logprobs",
    );
  }
  return {
    messages,
    maxTokens: body.max_completion_tokens ?? body.max_tokens ?? defaultMaxTokens,
    temperature: body.temperature ?? 1,
    topP: body.top_p ?? 1,
    ...(body.seed !== null && body.seed !== undefined ? { seed: body.seed } : {}),
    stop: stopList(body.stop),
    ...(body.logprobs ? { logprobs: body.top_logprobs ?? 0 } : {}),
  };
}

function usage(result: GenerateResult) {
  const { inputTokens, outputTokens } = result.usage;
  return {
    prompt_tokens: inputTokens,
    completion_tokens: outputTokens,
    total_tokens: inputTokens + outputTokens,
  };
}

/**
 * Streams a generation as `chat.completion.chunk` events: the assistant role first, then each piece of
 * text, then the finish reason (with the log-probabilities of every token, when asked), the usage
 * (when `stream_options.include_usage`), and `[DONE]`. Errors after the stream started are sent as an
 * `{error}` event, which the OpenAI SDK raises; a client that left gets nothing more.
 */
async function streamChat(
  reply: FastifyReply,
  scope: RequestScope,
  log: FastifyBaseLogger,
  head: { id: string; created: number; model: string },
  includeUsage: boolean,
  generate: (onText: (delta: string) => void) => Promise<GenerateResult>,
): Promise<FastifyReply> {
  const sse = new SseWriter(reply);
  const chunk = (choices: unknown[]) => ({
    ...head,
    object: "chat.completion.chunk",
    choices,
    ...(includeUsage ? { usage: null } : {}),
  });
  const start = () => {
    if (!sse.started) {
      sse.data(
        chunk([{ index: 0, delta: { role: "assistant", content: "" }, logprobs: null, finish_reason: null }]),
      );
    }
  };
  try {
    const result = await scope.run(
      generate((delta) => {
        if (!delta || scope.reason) return;
        start();
        sse.data(chunk([{ index: 0, delta: { content: delta }, logprobs: null, finish_reason: null }]));
      }),
    );
    start();
    const logprobs = result.logprobs ? chatLogprobs(result.logprobs) : null;
    sse.data(chunk([{ index: 0, delta: {}, logprobs, finish_reason: result.finishReason }]));
    if (includeUsage) sse.data({ ...chunk([]), usage: usage(result) });
    sse.data("[DONE]");
  } catch (error) {
    // Before the first event, fastify still owns the reply: its error handler answers in JSON.
    if (!sse.started) throw error;
    const api = toApiError(error);
    if (api.status >= 500 && api.status !== 503 && api.status !== 504)
      log.error({ err: error }, "chat stream failed");
    if (api.code !== "client_closed") sse.data(openAIErrorBody(api));
  } finally {
    sse.end();
  }
  return reply;
}
