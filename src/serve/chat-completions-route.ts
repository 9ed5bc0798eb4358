// `POST /v1/chat/completions`: OpenAI's chat API (plain and streamed) over any served `LanguageModel`,
// with `response_format` (JSON) where the backend can constrain its output, vLLM's
// `continue_final_message` for prefilled assistant answers and `prompt_logprobs` (with cai's
// `prompt_logprobs_from` window) for scoring a chat prompt's own tokens exactly.
import { randomUUID } from "node:crypto";
import type { FastifyBaseLogger, FastifyInstance, FastifyReply } from "fastify";
import { LlamaLanguageModel } from "../models/llama/llama-language-model.js";
import type { GenerateOptions, GenerateResult, LanguageModel } from "../models/model.js";
import { chatLogprobs } from "./logprobs-format.js";
import { ApiError, openAIErrorBody, toApiError } from "./openai-errors.js";
import {
  type ChatCompletionRequest,
  chatCompletionRequestSchema,
  outputFormatOf,
  stopList,
  toChatMessages,
} from "./openai-schemas.js";
import { parseBody } from "./parse-body.js";
import { chatPromptLogprobs } from "./prompt-logprobs.js";
import { assertContinuable } from "./request-checks.js";
import type { RequestScope } from "./request-scope.js";
import type { ServerContext } from "./server-context.js";
import { SseWriter } from "./sse.js";
import { formatOption } from "./structured-output.js";

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
      const options = {
        ...generateOptions(body, model.capabilities.generateLogprobs, name),
        ...formatOption(outputFormatOf(body), model, name, "response_format"),
      };
      const head = {
        id: `chatcmpl-${randomUUID().replaceAll("-", "")}`,
        created: Math.floor(Date.now() / 1000),
        model: name,
      };
      const scoring = promptScoring(body, model, name);
      if (body.stream) {
        const includeUsage = body.stream_options?.include_usage === true;
        return streamChat(reply, scope, request.log, head, includeUsage, (onText) =>
          model.generate({ ...options, signal: scope.signal, onText }),
        );
      }
      const scored = scoring
        ? await scope.run(
            chatPromptLogprobs(scoring.model, options.messages, scoring.top, scoring.from, scope.signal),
          )
        : undefined;
      const promptLogprobs = scored?.entries;
      // max_tokens 0 (only with prompt_logprobs): the prompt scored, nothing generated.
      const result: GenerateResult =
        scored && options.maxTokens === 0
          ? { text: "", finishReason: "length", usage: { inputTokens: scored.tokenCount, outputTokens: 0 } }
          : await scope.run(model.generate({ ...options, signal: scope.signal }));
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

/**
 * What a request's `prompt_logprobs` asks for (none when absent), checked: the model must score its own
 * prompt (the `llama:` backend), and not in a stream.
 */
function promptScoring(
  body: ChatCompletionRequest,
  model: LanguageModel,
  name: string,
): { model: LlamaLanguageModel; top: number; from: number } | undefined {
  const top = body.prompt_logprobs;
  if (top === null || top === undefined) {
    if (body.prompt_logprobs_from !== null && body.prompt_logprobs_from !== undefined)
      throw new ApiError(
        400,
        "prompt_logprobs_from: requires prompt_logprobs",
        "invalid_request_error",
        "invalid_value",
        "prompt_logprobs_from",
      );
    return undefined;
  }
  if (body.stream)
    throw new ApiError(
      400,
      "prompt_logprobs: not available with stream: true",
      "invalid_request_error",
      "invalid_value",
      "prompt_logprobs",
    );
  if (!(model instanceof LlamaLanguageModel))
    throw new ApiError(
      400,
      `prompt_logprobs: the model ${name} cannot score its prompt`,
      "invalid_request_error",
      "unsupported_capability",
      "prompt_logprobs",
    );
  return { model, top, from: body.prompt_logprobs_from ?? 0 };
}

/** The generation options a request asks for (without signal and streaming callback). */
function generateOptions(
  body: ChatCompletionRequest,
  canLogprobs: boolean,
  modelName: string,
): GenerateOptions {
  const messages = toChatMessages(body.messages);
  if (body.continue_final_message) {
    assertContinuable(messages);
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
  const maxTokens = body.max_completion_tokens ?? body.max_tokens ?? defaultMaxTokens;
  if (maxTokens === 0 && (body.prompt_logprobs === null || body.prompt_logprobs === undefined)) {
    const param = body.max_completion_tokens === 0 ? "max_completion_tokens" : "max_tokens";
    throw new ApiError(
      400,
      `${param}: must be at least 1 (0 only with prompt_logprobs, to score the prompt alone)`,
      "invalid_request_error",
      "invalid_value",
      param,
    );
  }
  return {
    messages,
    maxTokens,
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
