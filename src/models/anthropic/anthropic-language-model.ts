// The `anthropic:` backend: Claude models through the official SDK (which retries 429/5xx/network faults
// with backoff, honouring Retry-After). The Messages API exposes no log-probabilities, so this backend
// generates only; callers check `capabilities` and fall back (e.g. to parsing a stated verdict).
import Anthropic from "@anthropic-ai/sdk";
import { InvalidRequestError } from "../errors/invalid-request-error.js";
import type { GenerateOptions, GenerateResult, LanguageModel, ModelCapabilities } from "../model.js";
import { toModelError } from "../sdk-errors.js";

/** Options of {@link AnthropicLanguageModel}. */
export interface AnthropicModelOptions {
  /** Default: `$ANTHROPIC_BASE_URL`, else Anthropic's API. */
  baseURL?: string;
  /** Default: `$ANTHROPIC_API_KEY`. */
  apiKey?: string;
  /** Retries of transient faults. Default 4. */
  maxRetries?: number;
  /** Per-request time limit in milliseconds. Default 10 minutes. */
  timeoutMs?: number;
}

const capabilities: ModelCapabilities = {
  generate: true,
  scoreChoices: false,
  logLikelihood: false,
  generateLogprobs: false,
};

/** A Claude model behind Anthropic's Messages API. */
export class AnthropicLanguageModel implements LanguageModel {
  readonly provider = "anthropic";
  readonly capabilities = capabilities;
  readonly fingerprint: string;
  private readonly client: Anthropic;

  constructor(
    readonly modelId: string,
    options: AnthropicModelOptions = {},
  ) {
    const apiKey = options.apiKey ?? process.env.ANTHROPIC_API_KEY;
    const baseURL = options.baseURL ?? process.env.ANTHROPIC_BASE_URL;
    if (!apiKey && !baseURL) {
      throw new InvalidRequestError("anthropic: no API key: set ANTHROPIC_API_KEY (or --api-key)");
    }
    this.client = new Anthropic({
      apiKey: apiKey || "no-key",
      ...(baseURL ? { baseURL } : {}),
      maxRetries: options.maxRetries ?? 4,
      timeout: options.timeoutMs ?? 600_000,
    });
    this.fingerprint = `anthropic|${this.client.baseURL}|${modelId}`;
  }

  async generate(options: GenerateOptions): Promise<GenerateResult> {
    const system = options.messages.filter((m) => m.role === "system").map((m) => m.content);
    const messages = options.messages
      .filter((m) => m.role !== "system")
      .map((m) => ({ role: m.role as "user" | "assistant", content: m.content }));
    const body = {
      model: this.modelId,
      max_tokens: options.maxTokens ?? 256,
      messages,
      temperature: Math.min(options.temperature ?? 1, 1),
      ...(options.topP !== undefined && options.topP < 1 ? { top_p: options.topP } : {}),
      ...(system.length > 0 ? { system: system.join("\n\n") } : {}),
      ...(options.stop?.length ? { stop_sequences: options.stop } : {}),
    };
    const requestOptions = {
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.timeoutMs !== undefined ? { timeout: options.timeoutMs } : {}),
    };
    try {
      const message = options.onText
        ? await this.client.messages.stream(body, requestOptions).on("text", options.onText).finalMessage()
        : await this.client.messages.create(body, requestOptions);
      const text = message.content.map((block) => (block.type === "text" ? block.text : "")).join("");
      return {
        text,
        finishReason: message.stop_reason === "max_tokens" ? "length" : "stop",
        usage: { inputTokens: message.usage.input_tokens, outputTokens: message.usage.output_tokens },
      };
    } catch (error) {
      throw toModelError(Anthropic, this.provider, error, options.timeoutMs);
    }
  }
}
