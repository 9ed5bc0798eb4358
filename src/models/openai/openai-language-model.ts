// The `openai:` backend: any OpenAI-compatible server (OpenAI, vLLM, llama.cpp server, Ollama, LM Studio,
// `cai serve`) through the official SDK, which also retries transient faults (429, 5xx, network) with
// exponential backoff and jitter, honouring Retry-After. Raw-text choices and log-likelihoods are scored
// as lm-evaluation-harness scores such servers (`/v1/completions` with `echo` and `logprobs`); choices
// after chat prompts as chat-choice-scoring.ts describes.
import OpenAI from "openai";
import { InvalidRequestError } from "../errors/invalid-request-error.js";
import { UnsupportedCapabilityError } from "../errors/unsupported-capability-error.js";
import type {
  ChoiceScores,
  GenerateOptions,
  GenerateResult,
  LanguageModel,
  LogLikelihoodOptions,
  LogLikelihoodResult,
  ModelCapabilities,
  OutputFormat,
  ScoreChoicesOptions,
  TokenLogprob,
} from "../model.js";
import { assertValidChoices, normaliseLogprobs } from "../scoring.js";
import { toModelError } from "../sdk-errors.js";
import { ChatChoiceScorer } from "./chat-choice-scoring.js";
import { choicesFromTop, type TopToken } from "./next-token-choices.js";

/** Options of {@link OpenAILanguageModel}. */
export interface OpenAIModelOptions {
  /** Server URL ending in `/v1`. Default: `$OPENAI_BASE_URL`, else OpenAI's. */
  baseURL?: string;
  /** Default: `$OPENAI_API_KEY`; local servers need none. */
  apiKey?: string;
  /** Retries of transient faults (429, 5xx, timeouts, dropped connections). Default 4. */
  maxRetries?: number;
  /** Per-request time limit in milliseconds. Default 10 minutes. */
  timeoutMs?: number;
  /** How many alternatives to ask for when scoring through `top_logprobs`. Default 20. */
  topLogprobs?: number;
}

const capabilities: ModelCapabilities = {
  generate: true,
  scoreChoices: "exact",
  logLikelihood: true,
  generateLogprobs: true,
  // As OpenAI's `response_format`, which the server must honour.
  structuredOutput: true,
};

/** A model behind an OpenAI-compatible HTTP API. */
export class OpenAILanguageModel implements LanguageModel {
  readonly provider = "openai";
  readonly capabilities = capabilities;
  readonly fingerprint: string;
  private readonly client: OpenAI;
  private readonly topLogprobs: number;
  /** Set once the server shows it cannot echo prompt log-probabilities; later calls go straight to the fallback. */
  private echoUnsupported = false;
  /** Scores choices after chat prompts, learning what the server can do. */
  private readonly chatScorer: ChatChoiceScorer;

  constructor(
    readonly modelId: string,
    options: OpenAIModelOptions = {},
  ) {
    const baseURL = options.baseURL ?? process.env.OPENAI_BASE_URL;
    const apiKey = options.apiKey ?? process.env.OPENAI_API_KEY;
    if (!apiKey && !baseURL) {
      throw new InvalidRequestError(
        "openai: no API key: set OPENAI_API_KEY (or --api-key), or point --base-url at a local server",
      );
    }
    this.client = new OpenAI({
      apiKey: apiKey || "no-key",
      ...(baseURL ? { baseURL } : {}),
      maxRetries: options.maxRetries ?? 4,
      timeout: options.timeoutMs ?? 600_000,
    });
    this.topLogprobs = options.topLogprobs ?? 20;
    this.fingerprint = `openai|${this.client.baseURL}|${modelId}`;
    this.chatScorer = new ChatChoiceScorer(this.client, modelId, this.topLogprobs, (o, r) => this.call(o, r));
  }

  async generate(options: GenerateOptions): Promise<GenerateResult> {
    const body = {
      model: this.modelId,
      messages: options.messages,
      max_tokens: options.maxTokens ?? 256,
      temperature: options.temperature ?? 1,
      top_p: options.topP ?? 1,
      ...(options.seed !== undefined ? { seed: options.seed } : {}),
      ...(options.stop?.length ? { stop: options.stop } : {}),
      ...(options.logprobs !== undefined ? { logprobs: true, top_logprobs: options.logprobs } : {}),
      ...(options.format ? { response_format: responseFormat(options.format) } : {}),
    };
    return this.call(options, async (requestOptions) => {
      if (!options.onText) {
        const completion = await this.client.chat.completions.create(body, requestOptions);
        const choice = completion.choices[0];
        return {
          text: choice?.message.content ?? "",
          finishReason: choice?.finish_reason === "length" ? "length" : "stop",
          usage: {
            inputTokens: completion.usage?.prompt_tokens ?? 0,
            outputTokens: completion.usage?.completion_tokens ?? 0,
          },
          ...(options.logprobs !== undefined ? { logprobs: chatLogprobs(choice?.logprobs?.content) } : {}),
        };
      }
      const stream = await this.client.chat.completions.create(
        { ...body, stream: true, stream_options: { include_usage: true } },
        requestOptions,
      );
      let text = "";
      let finishReason: GenerateResult["finishReason"] = "stop";
      const usage = { inputTokens: 0, outputTokens: 0 };
      const logprobs: TokenLogprob[] = [];
      for await (const chunk of stream) {
        const choice = chunk.choices[0];
        const delta = choice?.delta?.content ?? "";
        if (delta) {
          text += delta;
          options.onText?.(delta);
        }
        if (choice?.logprobs?.content) logprobs.push(...chatLogprobs(choice.logprobs.content));
        if (choice?.finish_reason) finishReason = choice.finish_reason === "length" ? "length" : "stop";
        if (chunk.usage) {
          usage.inputTokens = chunk.usage.prompt_tokens;
          usage.outputTokens = chunk.usage.completion_tokens;
        }
      }
      return { text, finishReason, usage, ...(options.logprobs !== undefined ? { logprobs } : {}) };
    });
  }

  async scoreChoices(options: ScoreChoicesOptions): Promise<ChoiceScores> {
    assertValidChoices(options.choices);
    const { prompt } = options;
    if (typeof prompt === "string" && !this.echoUnsupported) {
      const echo = await this.scoreByEcho(prompt, options.choices, options);
      if (echo.kind === "scored") {
        const logprobs = echo.results.map((s) => s.logprob);
        return { probabilities: normaliseLogprobs(logprobs), logprobs, method: "exact" };
      }
      // A choice merges with the prompt's last token in the server's tokenizer: read the first
      // token's alternatives after the prompt alone instead.
      if (echo.kind === "misaligned")
        return choicesFromTop(await this.nextTokenByCompletion(prompt, options), options.choices);
    }
    if (typeof prompt !== "string") return this.chatScorer.score({ ...options, prompt });
    // No raw-text scoring here: the next token's alternatives after the text as a user's message.
    return this.chatScorer.fromNextToken({
      ...options,
      prompt: { messages: [{ role: "user", content: prompt }] },
    });
  }

  async logLikelihood(options: LogLikelihoodOptions): Promise<LogLikelihoodResult> {
    if (typeof options.prefix !== "string") {
      throw new UnsupportedCapabilityError(
        this.provider,
        "score a chat prompt's log-likelihood",
        "the chat template is applied by the server; pass the rendered prompt as text",
      );
    }
    const echo = this.echoUnsupported
      ? ({ kind: "unsupported" } as const)
      : await this.scoreByEcho(options.prefix, [options.continuation], options);
    if (echo.kind === "misaligned") {
      throw new InvalidRequestError(
        `${this.provider}: the continuation ${JSON.stringify(options.continuation)} merges with the prefix's last token in the server's tokenizer; end the prefix at a token boundary (e.g. before a space)`,
      );
    }
    if (echo.kind === "unsupported" || !echo.results[0]) {
      throw new UnsupportedCapabilityError(
        this.provider,
        "score log-likelihoods",
        `the server at ${this.client.baseURL} does not return prompt log-probabilities (/v1/completions with echo)`,
      );
    }
    return echo.results[0];
  }

  /**
   * Log-likelihood of each continuation through `/v1/completions` (`echo`, `logprobs: 1`),
   * all continuations in one request. The continuation's tokens are those whose text starts at or after
   * the prefix's end; if no token starts exactly there, the server's tokenizer merged the two and the
   * continuation cannot be scored apart (`misaligned`).
   */
  private async scoreByEcho(
    prefix: string,
    continuations: readonly string[],
    options: ScoreChoicesOptions | LogLikelihoodOptions,
  ): Promise<EchoScores> {
    let completion: OpenAI.Completions.Completion;
    try {
      completion = await this.call(options, (requestOptions) =>
        this.client.completions.create(
          {
            model: this.modelId,
            prompt: continuations.map((c) => prefix + c),
            // One token, as lm-evaluation-harness asks: some servers refuse 0. It lies past the
            // continuation's end, so it is never counted.
            max_tokens: 1,
            echo: true,
            logprobs: 1,
            temperature: 0,
          },
          requestOptions,
        ),
      );
    } catch (error) {
      if (isUnsupportedEndpoint(error)) {
        this.echoUnsupported = true;
        return { kind: "unsupported" };
      }
      throw error;
    }
    const results: LogLikelihoodResult[] = [];
    for (const [index, continuation] of continuations.entries()) {
      const logprobs = completion.choices.find((c) => c.index === index)?.logprobs;
      const offsets = logprobs?.text_offset;
      const tokenLogprobs = logprobs?.token_logprobs;
      if (!offsets || !tokenLogprobs || !logprobs?.tokens) {
        this.echoUnsupported = true;
        return { kind: "unsupported" };
      }
      if (!offsets.includes(prefix.length)) return { kind: "misaligned" };
      const full = prefix + continuation;
      let logprob = 0;
      let tokenCount = 0;
      let isGreedy = true;
      offsets.forEach((offset, i) => {
        if (offset < prefix.length || offset >= full.length) return;
        logprob += tokenLogprobs[i] ?? Number.NEGATIVE_INFINITY;
        tokenCount += 1;
        const top = logprobs.top_logprobs?.[i];
        const best = top ? Object.entries(top).sort((a, b) => b[1] - a[1])[0] : undefined;
        if (best && best[0] !== logprobs.tokens?.[i]) isGreedy = false;
      });
      results.push({ logprob, tokenCount, isGreedy });
    }
    return { kind: "scored", results };
  }

  /** The alternatives for the first token after a raw-text prompt (`/v1/completions`, `logprobs`). */
  private async nextTokenByCompletion(prompt: string, options: ScoreChoicesOptions): Promise<TopToken[]> {
    const completion = await this.call(options, (requestOptions) =>
      this.client.completions.create(
        { model: this.modelId, prompt, max_tokens: 1, temperature: 0, logprobs: this.topLogprobs },
        requestOptions,
      ),
    );
    const top = completion.choices[0]?.logprobs?.top_logprobs?.[0] ?? {};
    return Object.entries(top).map(([token, logprob]) => ({ token, logprob }));
  }

  /** Runs a request with the call's signal and timeout, turning SDK errors into cai's typed errors. */
  private async call<T>(
    options: { signal?: AbortSignal; timeoutMs?: number },
    request: (requestOptions: OpenAI.RequestOptions) => Promise<T>,
  ): Promise<T> {
    try {
      return await request({
        ...(options.signal ? { signal: options.signal } : {}),
        ...(options.timeoutMs !== undefined ? { timeout: options.timeoutMs } : {}),
      });
    } catch (error) {
      throw toModelError(OpenAI, this.provider, error, options.timeoutMs);
    }
  }
}

/** How `/v1/completions` echo scoring went. */
type EchoScores =
  | { kind: "scored"; results: LogLikelihoodResult[] }
  | { kind: "unsupported" }
  | { kind: "misaligned" };

function chatLogprobs(
  content: OpenAI.Chat.Completions.ChatCompletionTokenLogprob[] | null | undefined,
): TokenLogprob[] {
  return (content ?? []).map((t) => ({
    token: t.token,
    logprob: t.logprob,
    top: t.top_logprobs.map((alt) => ({ token: alt.token, logprob: alt.logprob })),
  }));
}

/** A server answering that it has no such endpoint or parameter (404, 400, 405, 422, 501). */
function isUnsupportedEndpoint(error: unknown): boolean {
  const status = (error as { status?: number }).status;
  return status === 404 || status === 400 || status === 405 || status === 422 || status === 501;
}

/** OpenAI's `response_format` for an output format. */
function responseFormat(
  format: OutputFormat,
): OpenAI.ResponseFormatJSONObject | OpenAI.ResponseFormatJSONSchema {
  if (format.type === "json_object") return { type: "json_object" };
  return {
    type: "json_schema",
    json_schema: {
      name: format.name ?? "output",
      schema: format.schema,
      ...(format.strict !== undefined ? { strict: format.strict } : {}),
    },
  };
}
