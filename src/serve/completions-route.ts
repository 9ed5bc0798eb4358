// `POST /v1/completions`: OpenAI's legacy raw-text API (plain and streamed), for llama.cpp models loaded
// in this process, with `echo` + `logprobs` scoring of the prompt's own tokens as lm-evaluation-harness
// (and cai's `openai:` backend) use it to compute log-likelihoods.
import { randomUUID } from "node:crypto";
import type { FastifyBaseLogger, FastifyInstance, FastifyReply } from "fastify";
import { LlamaLanguageModel } from "../models/llama/llama-language-model.js";
import type { GenerateResult } from "../models/model.js";
import { type CompletionLogprobs, completionLogprobs, type ScoredToken } from "./logprobs-format.js";
import { ApiError, openAIErrorBody, toApiError } from "./openai-errors.js";
import { type CompletionRequest, completionRequestSchema, stopList } from "./openai-schemas.js";
import { parseBody } from "./parse-body.js";
import { scorePromptTokens } from "./prompt-logprobs.js";
import type { RequestScope } from "./request-scope.js";
import type { ServerContext } from "./server-context.js";
import { SseWriter } from "./sse.js";
import { generatedTokenOffsets, promptTokenOffsets } from "./token-offsets.js";

/** Default `max_tokens`, as OpenAI's. */
const defaultMaxTokens = 16;

/** One prompt's answer: its choice and token counts. */
interface CompletedPrompt {
  choice: CompletionChoice;
  promptTokens: number;
  completionTokens: number;
}

/** One choice of a text completion. */
interface CompletionChoice {
  index: number;
  text: string;
  finish_reason: "stop" | "length";
  logprobs: CompletionLogprobs | null;
}

/**
 * Registers the route. A prompt array gives one choice per prompt (`index` = position), generated
 * concurrently. With `echo` and `logprobs`, every prompt token is listed with its log-probability given
 * the tokens before it; the first has `null` (OpenAI's convention). That first token is the BOS token
 * when the model uses one: it is listed, with text "" at offset 0, so indices line up with the model's
 * tokens. `text_offset` gives where each token's text starts in the choice's `text`, so the tokens of
 * a continuation are exactly those at or after its start (when the prompt's own tokens end there).
 * Token texts are each token decoded alone: a byte piece of a split UTF-8 character reads U+FFFD, and
 * `top_logprobs` keys that coincide (two such pieces, or a byte token and a character token) keep the
 * more likely one.
 */
export function registerCompletionsRoute(app: FastifyInstance, context: ServerContext): void {
  app.post("/v1/completions", (request, reply) =>
    context.scopes.with(reply, async (scope) => {
      const body = parseBody(completionRequestSchema, request.body);
      const { name, model } = context.models.resolve(body.model);
      if (!(model instanceof LlamaLanguageModel)) {
        throw new ApiError(
          400,
          `model: /v1/completions serves only llama.cpp models loaded in this server, and ${name} is a ${model.provider} model; use /v1/chat/completions`,
          "invalid_request_error",
          "unsupported_model",
          "model",
        );
      }
      const prompts = typeof body.prompt === "string" ? [body.prompt] : body.prompt;
      const head = {
        id: `cmpl-${randomUUID().replaceAll("-", "")}`,
        object: "text_completion",
        created: Math.floor(Date.now() / 1000),
        model: name,
      };
      const completeAll = (onText?: (index: number, delta: string) => void) =>
        Promise.all(
          prompts.map((prompt, index) =>
            completeOne(model, prompt, index, body, scope.signal, onText && ((d) => onText(index, d))),
          ),
        );
      if (body.stream) {
        const includeUsage = body.stream_options?.include_usage === true;
        return streamCompletions(reply, scope, request.log, head, includeUsage, completeAll);
      }
      const results = await scope.run(completeAll());
      return { ...head, choices: results.map((r) => r.choice), usage: usageOf(results) };
    }),
  );
}

/** The usage of one request: its choices' tokens summed. */
function usageOf(results: readonly CompletedPrompt[]) {
  const promptTokens = results.reduce((sum, r) => sum + r.promptTokens, 0);
  const completionTokens = results.reduce((sum, r) => sum + r.completionTokens, 0);
  return {
    prompt_tokens: promptTokens,
    completion_tokens: completionTokens,
    total_tokens: promptTokens + completionTokens,
  };
}

/**
 * Streams completions as `text_completion` chunks: each piece of text as generated (the prompt first,
 * with `echo`), tagged with its prompt's `index`; then per prompt a chunk with its finish reason and,
 * when asked, the `logprobs` of all its tokens (chunks before carry none); the usage (with
 * `stream_options.include_usage`) and `[DONE]`. Errors after the first chunk are sent as an `{error}`
 * event, which the OpenAI SDK raises.
 */
async function streamCompletions(
  reply: FastifyReply,
  scope: RequestScope,
  log: FastifyBaseLogger,
  head: { id: string; object: string; created: number; model: string },
  includeUsage: boolean,
  completeAll: (onText: (index: number, delta: string) => void) => Promise<CompletedPrompt[]>,
): Promise<FastifyReply> {
  const sse = new SseWriter(reply);
  const chunk = (choices: unknown[]) => ({ ...head, choices, ...(includeUsage ? { usage: null } : {}) });
  try {
    const results = await scope.run(
      completeAll((index, delta) => {
        if (!delta || scope.reason) return;
        sse.data(chunk([{ index, text: delta, logprobs: null, finish_reason: null }]));
      }),
    );
    for (const { choice } of results) {
      sse.data(
        chunk([
          { index: choice.index, text: "", logprobs: choice.logprobs, finish_reason: choice.finish_reason },
        ]),
      );
    }
    if (includeUsage) sse.data({ ...chunk([]), usage: usageOf(results) });
    sse.data("[DONE]");
  } catch (error) {
    // Before the first event, fastify still owns the reply: its error handler answers in JSON.
    if (!sse.started) throw error;
    const api = toApiError(error);
    if (api.status >= 500 && api.status !== 503 && api.status !== 504)
      log.error({ err: error }, "completion stream failed");
    if (api.code !== "client_closed") sse.data(openAIErrorBody(api));
  } finally {
    sse.end();
  }
  return reply;
}

/** Scores (with `echo` and `logprobs`) and continues one prompt. */
async function completeOne(
  model: LlamaLanguageModel,
  prompt: string,
  index: number,
  body: CompletionRequest,
  signal: AbortSignal,
  onText?: (delta: string) => void,
): Promise<CompletedPrompt> {
  const tokens = model.prompts.textTokens(prompt);
  if (tokens.length === 0) {
    throw new ApiError(
      400,
      "prompt: is empty, and the model has no BOS token to start from",
      "invalid_request_error",
    );
  }
  const echo = body.echo === true;
  const top = body.logprobs ?? undefined;
  const maxTokens = body.max_tokens ?? defaultMaxTokens;
  // The first token is conditioned on nothing: it has no log-probability.
  const promptScores =
    echo && top !== undefined ? await scorePromptTokens(model, tokens, top, 0, signal) : undefined;
  if (echo) onText?.(prompt);
  let generated: GenerateResult | undefined;
  if (maxTokens > 0) {
    generated = await model.complete({
      prompt,
      maxTokens,
      temperature: body.temperature ?? 1,
      topP: body.top_p ?? 1,
      ...(body.seed !== null && body.seed !== undefined ? { seed: body.seed } : {}),
      stop: stopList(body.stop),
      ...(top !== undefined ? { logprobs: top } : {}),
      ...(onText ? { onText } : {}),
      signal,
    });
  }
  const text = (echo ? prompt : "") + (generated?.text ?? "");
  let logprobs: CompletionLogprobs | null = null;
  if (top !== undefined) {
    const scored: ScoredToken[] = [];
    const offsets: number[] = [];
    if (promptScores) {
      tokens.forEach((token, i) => {
        const score = promptScores[i];
        scored.push({
          text: model.detokenize([token]),
          scored: score
            ? {
                logprob: score.logprob,
                top: score.top.map((e) => ({ token: model.detokenize([e.token]), logprob: e.logprob })),
              }
            : null,
        });
      });
      offsets.push(...promptTokenOffsets(tokens, (prefix) => model.detokenize(prefix), prompt));
    }
    const generatedTokens = generated?.logprobs ?? [];
    for (const t of generatedTokens)
      scored.push({ text: t.token, scored: { logprob: t.logprob, top: t.top } });
    offsets.push(
      ...generatedTokenOffsets(
        generatedTokens.map((t) => t.token),
        text,
        echo ? prompt.length : 0,
      ),
    );
    logprobs = completionLogprobs(scored, offsets);
  }
  return {
    choice: { index, text, finish_reason: generated?.finishReason ?? "length", logprobs },
    promptTokens: tokens.length,
    completionTokens: generated?.usage.outputTokens ?? 0,
  };
}
