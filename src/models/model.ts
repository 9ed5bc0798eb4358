// The model contract: the one small interface every backend (llama.cpp, OpenAI-compatible, Anthropic,
// or a user's own object) meets, so that every stage of Constitutional AI can talk to any model.

/** Who said a chat message. */
export type ChatRole = "system" | "user" | "assistant";

/** One chat message. */
export interface ChatMessage {
  role: ChatRole;
  content: string;
}

/** Why generation stopped: the model ended its turn or hit a stop string (`stop`), or ran out of tokens (`length`). */
export type FinishReason = "stop" | "length";

/** Tokens read and written by one call. */
export interface TokenUsage {
  inputTokens: number;
  outputTokens: number;
}

/** Options shared by every call. */
export interface CallOptions {
  /** Cancels the call; the promise rejects with a `ModelAbortedError`. */
  signal?: AbortSignal;
  /** Per-call time limit in milliseconds (remote backends); the call rejects with a `ModelTimeoutError`. */
  timeoutMs?: number;
}

/** Options of {@link LanguageModel.generate}. */
export interface GenerateOptions extends CallOptions {
  /** The conversation. A final assistant message is continued (prefill) where the backend can. */
  messages: ChatMessage[];
  /** Upper bound on generated tokens. Default 256. */
  maxTokens?: number;
  /** 0 is greedy. Default 1. */
  temperature?: number;
  /** Nucleus sampling mass; 1 disables it. Default 1. */
  topP?: number;
  /** Seed of the sampler: the same seed, model and parameters give the same text. */
  seed?: number;
  /** Strings that end generation; the text returned stops before them. */
  stop?: string[];
  /**
   * Return the log-probability of each generated token and this many alternatives (0–20). At
   * temperature 0 these are the model's own; when sampling, llama.cpp reports its sampling distribution.
   */
  logprobs?: number;
  /** Called with each new piece of text as it is generated (streaming). */
  onText?: (delta: string) => void;
  /**
   * Constrain the text to JSON (any object, or one matching a JSON Schema). Honoured only where
   * `capabilities.structuredOutput` is true: check it first (a backend without it does not look here).
   */
  format?: OutputFormat;
}

/** What generated text must be: a JSON object, or JSON matching a JSON Schema. */
export type OutputFormat =
  | { type: "json_object" }
  | { type: "json_schema"; schema: Record<string, unknown>; name?: string; strict?: boolean };

/** A generated token with its log-probability, and the most likely alternatives at that position. */
export interface TokenLogprob {
  token: string;
  logprob: number;
  top: Array<{ token: string; logprob: number }>;
}

/** The result of {@link LanguageModel.generate}. */
export interface GenerateResult {
  text: string;
  finishReason: FinishReason;
  usage: TokenUsage;
  /** Present when `logprobs` was asked and the backend can. */
  logprobs?: TokenLogprob[];
}

/**
 * What is being scored: raw text (scored exactly as given, after the model's BOS token), or a chat
 * conversation rendered with the model's chat template, the assistant's turn opened and, optionally,
 * begun with `assistantPrefix` (e.g. `"The answer is: ("`).
 */
export type ScoringPrompt = string | { messages: ChatMessage[]; assistantPrefix?: string };

/** Options of {@link LanguageModel.scoreChoices}. */
export interface ScoreChoicesOptions extends CallOptions {
  prompt: ScoringPrompt;
  /** Candidate continuations, e.g. `["A", "B"]`. At least two, all different. */
  choices: string[];
}

/** How a backend scores choices. */
export type ScoringMethod =
  /** Sum of the true log-probabilities of every token of each choice. */
  | "exact"
  /** From the `top_logprobs` of a one-token completion: exact for single-token choices found there. */
  | "top-logprobs";

/** The result of {@link LanguageModel.scoreChoices}. */
export interface ChoiceScores {
  /** Normalised over the choices: they sum to 1. */
  probabilities: number[];
  /** Log-probability of each choice as a continuation of the prompt (not normalised). */
  logprobs: number[];
  method: ScoringMethod;
}

/** Options of {@link LanguageModel.logLikelihood}. */
export interface LogLikelihoodOptions extends CallOptions {
  prefix: ScoringPrompt;
  continuation: string;
}

/** The log-likelihood of a continuation after a prefix. */
export interface LogLikelihoodResult {
  /** Sum of the log-probabilities of the continuation's tokens. */
  logprob: number;
  /** How many tokens the continuation took. */
  tokenCount: number;
  /** Whether greedy decoding would have produced exactly this continuation. */
  isGreedy: boolean;
}

/** What a backend can do, so callers can fall back (Anthropic, for one, has no log-probabilities). */
export interface ModelCapabilities {
  generate: true;
  /** How choices are scored, or `false` when the backend exposes no log-probabilities. */
  scoreChoices: ScoringMethod | false;
  logLikelihood: boolean;
  /** Whether `generate` can return per-token log-probabilities. */
  generateLogprobs: boolean;
  /** Whether `generate` honours `format` (JSON output). Absent: it does not. */
  structuredOutput?: boolean;
}

/** Facts about a loaded model. */
export interface ModelInfo {
  /** Context window in tokens, where known. */
  contextSize?: number;
  /** Anything else the backend knows (architecture, file, threads…). */
  details: Record<string, string | number | boolean>;
}

/**
 * A language model, as cai uses it. Implement this to plug in a model of your own: `generate` is
 * required; `scoreChoices` and `logLikelihood` when `capabilities` says so.
 */
export interface LanguageModel {
  /** The backend: `llama`, `openai`, `anthropic`, or your own name. */
  readonly provider: string;
  /** The model's name within its backend, e.g. a file name or `gpt-4o-mini`. */
  readonly modelId: string;
  /**
   * Everything that changes this model's outputs (file identity, adapters, base URL…), used as the
   * call-cache key: two models with the same fingerprint give the same answers to the same calls.
   */
  readonly fingerprint: string;
  readonly capabilities: ModelCapabilities;
  generate(options: GenerateOptions): Promise<GenerateResult>;
  scoreChoices?(options: ScoreChoicesOptions): Promise<ChoiceScores>;
  logLikelihood?(options: LogLikelihoodOptions): Promise<LogLikelihoodResult>;
  info?(): Promise<ModelInfo>;
  /** Frees what the model holds (contexts, connections). */
  close?(): Promise<void>;
}
