// The `llama:` backend: a GGUF model run in-process by llama.cpp (node-llama-cpp), with optional LoRA
// adapters. By default every concurrent call gets a context of its own and tokens are evaluated so that
// results depend only on the call (canonical-evaluation.ts); `deterministic: false` puts concurrent calls
// on parallel sequences of one context instead, so llama.cpp batches them (faster, but a call's numbers
// then vary slightly with what shares its batches).
import type {
  Llama,
  LlamaContext,
  LlamaContextOptions,
  LlamaContextSequence,
  LlamaModel,
  Token,
} from "node-llama-cpp";
import { InvalidRequestError } from "../errors/invalid-request-error.js";
import { ModelAbortedError } from "../errors/model-aborted-error.js";
import { ModelLoadError } from "../errors/model-load-error.js";
import type {
  CallOptions,
  ChatMessage,
  ChoiceScores,
  FinishReason,
  GenerateOptions,
  GenerateResult,
  LanguageModel,
  LogLikelihoodOptions,
  LogLikelihoodResult,
  ModelCapabilities,
  ModelInfo,
  ScoreChoicesOptions,
  TokenLogprob,
} from "../model.js";
import { assertValidChoices, normaliseLogprobs, safeLog } from "../scoring.js";
import { evaluateDistributions, syncSequence } from "./canonical-evaluation.js";
import { grammarState, jsonGrammar } from "./json-grammar.js";
import { LlamaPromptRenderer } from "./llama-prompt.js";
import {
  acquireLlamaModel,
  fileIdentity,
  type LlamaGpuChoice,
  llamaRuntime,
  releaseLlamaModel,
} from "./llama-runtime.js";
import { checkLlamaFiles } from "./model-file-check.js";
import { SequencePool } from "./sequence-pool.js";
import { serializeSampling } from "./serial-sampling.js";
import { TextStream } from "./text-stream.js";
import { chooseThreads } from "./thread-choice.js";
import { type DecodedToken, decodeBatched, decodePaired, type TokenSampling } from "./token-generation.js";

/** Options of {@link LlamaLanguageModel.sampleCompletion}. */
export interface SampleCompletionOptions extends CallOptions {
  messages: ChatMessage[];
  /** The most tokens to sample, the end-of-generation token included. */
  maxTokens: number;
  /** Default 1: the model's own distribution (what on-policy training needs). */
  temperature?: number;
  seed: number;
}

/** A completion sampled as tokens (see {@link LlamaLanguageModel.sampleCompletion}). */
export interface SampledCompletion {
  readonly promptTokens: readonly Token[];
  /** The sampled tokens; the last is the end-of-generation token when `finishReason` is `stop`. */
  readonly tokens: readonly Token[];
  /** log p of each sampled token under the distribution it was drawn from. */
  readonly logprobs: readonly number[];
  /** The completion's text, without the end-of-generation token. */
  readonly text: string;
  readonly finishReason: FinishReason;
}

/** A LoRA adapter file and the scale it is applied at (default 1). */
export interface LlamaAdapter {
  path: string;
  scale?: number;
}

/** Options of {@link LlamaLanguageModel.load}. */
export interface LlamaModelOptions {
  /** LoRA adapters (GGUF) applied on top of the base weights. */
  adapters?: LlamaAdapter[];
  /** Context window per sequence, in tokens. Default: the model's training context, at most 8192 (few-shot critique prompts run long). */
  contextSize?: number;
  /** Calls run at once (concurrent calls beyond this wait). Default 4. */
  parallel?: number;
  /**
   * Default true: results depend only on the call — the same texts and numbers at any concurrency, on a
   * rerun and after a resume. Each running call gets a context of its own (made when first needed, each
   * with `threads / parallel` threads, at least 1) and decoding evaluates two tokens per step (about 20%
   * slower on one stream). False: concurrent calls share one context's parallel sequences, batched
   * together by llama.cpp, which rounds a call's numbers differently depending on what shares its batch.
   */
  deterministic?: boolean;
  /** CPU threads; default `"auto"`: measured once per model file (see thread-choice.ts). */
  threads?: number | "auto";
  /** Default `"auto"`: a GPU when llama.cpp finds one. */
  gpu?: LlamaGpuChoice;
  /** Store the KV cache in F32 instead of F16: slower, but log-probabilities match a float32 reference to ~1e-6. */
  exactKvCache?: boolean;
  /** Name shown as `modelId`; default the file name. */
  name?: string;
}

const capabilities: ModelCapabilities = {
  generate: true,
  scoreChoices: "exact",
  logLikelihood: true,
  generateLogprobs: true,
  structuredOutput: true,
};

/** How many tokens llama.cpp evaluates per batch when scoring; also caps one scoring call's length. */
const defaultBatchSize = 512;

/** A GGUF model run in-process by llama.cpp. */
export class LlamaLanguageModel implements LanguageModel {
  readonly provider = "llama";
  readonly capabilities = capabilities;
  private closed = false;
  /** Next-token distributions recently computed, by the tokens before them (see promptLogprobs). */
  private readonly recentDistributions = new Map<string, Map<Token, number>>();

  private constructor(
    readonly modelId: string,
    readonly fingerprint: string,
    private readonly llama: Llama,
    private readonly model: LlamaModel,
    private readonly contexts: LlamaContext[],
    private readonly pool: SequencePool,
    private readonly renderer: LlamaPromptRenderer,
    private readonly details: ModelInfo["details"],
    private readonly deterministic: boolean,
    private readonly contextSize: number,
  ) {}

  /** Loads `modelPath` (sharing its weights with other instances in this process) and opens a context. */
  static async load(modelPath: string, options: LlamaModelOptions = {}): Promise<LlamaLanguageModel> {
    const gpu = options.gpu ?? "auto";
    const adapters = options.adapters ?? [];
    await checkLlamaFiles(
      modelPath,
      adapters.map((a) => a.path),
    );
    const adapterKeys = await Promise.all(
      adapters.map(async (a) => `${await fileIdentity(a.path)}@${a.scale ?? 1}`),
    );
    const fileKey = await fileIdentity(modelPath);
    const model = await acquireLlamaModel(modelPath, gpu);
    const contexts: LlamaContext[] = [];
    try {
      const llama = await llamaRuntime(gpu);
      const threads =
        typeof options.threads === "number"
          ? options.threads
          : (await chooseThreads(llama, model, fileKey)).threads;
      const parallel = Math.max(1, options.parallel ?? 4);
      const deterministic = options.deterministic ?? true;
      const contextSize = Math.min(
        options.contextSize ?? Math.min(model.trainContextSize, 8192),
        model.trainContextSize,
      );
      const contextOptions = (sequences: number, contextThreads: number): LlamaContextOptions => ({
        contextSize,
        sequences,
        threads: contextThreads,
        batchSize: defaultBatchSize,
        flashAttention: false,
        ...(options.exactKvCache
          ? { experimentalKvCacheKeyType: "F32", experimentalKvCacheValueType: "F32" }
          : {}),
        ...(adapters.length > 0
          ? { lora: { adapters: adapters.map((a) => ({ filePath: a.path, scale: a.scale ?? 1 })) } }
          : {}),
      });
      const createContext = (sequences: number, contextThreads: number) =>
        model.createContext(contextOptions(sequences, contextThreads)).catch((error: unknown) => {
          const reason = error instanceof Error ? error.message : String(error);
          const culprit = adapters.length > 0 ? adapters.map((a) => a.path).join("+") : modelPath;
          throw new ModelLoadError(culprit, `cannot create a context: ${reason}`, { cause: error });
        });
      let pool: SequencePool;
      // Deterministic: one context per running call, so no batch mixes calls; the threads are shared out.
      const contextThreads = deterministic ? Math.max(1, Math.floor(threads / parallel)) : threads;
      if (deterministic) {
        const first = await createContext(1, contextThreads);
        contexts.push(first);
        pool = new SequencePool([first.getSequence()], {
          max: parallel,
          create: async () => {
            const context = await createContext(1, contextThreads);
            contexts.push(context);
            return context.getSequence();
          },
        });
      } else {
        const context = await createContext(parallel, threads);
        contexts.push(context);
        if (parallel > 1 && !serializeSampling(context))
          throw new ModelLoadError(
            modelPath,
            "this node-llama-cpp cannot be made to read parallel sequences' logits safely; use parallel 1",
          );
        pool = new SequencePool(Array.from({ length: parallel }, () => context.getSequence()));
      }
      const name = options.name ?? modelPath.split(/[\\/]/).pop() ?? modelPath;
      const fingerprint = [
        "llama",
        fileKey,
        ...adapterKeys,
        options.exactKvCache ? "kv-f32" : "kv-f16",
        deterministic ? "paired" : "batched",
      ].join("|");
      const renderer = new LlamaPromptRenderer(model);
      return new LlamaLanguageModel(
        name,
        fingerprint,
        llama,
        model,
        contexts,
        pool,
        renderer,
        {
          file: modelPath,
          architecture: model.fileInfo.metadata.general.architecture ?? "unknown",
          ...(adapters.length > 0
            ? { adapters: adapters.map((a) => `${a.path}@${a.scale ?? 1}`).join(" + ") }
            : {}),
          threads: contextThreads,
          parallel,
          deterministic,
          chatTemplate: renderer.templateName,
          sizeBytes: model.size,
        },
        deterministic,
        contextSize,
      );
    } catch (error) {
      await Promise.all(contexts.map((context) => context.dispose()));
      await releaseLlamaModel(model);
      throw error;
    }
  }

  async info(): Promise<ModelInfo> {
    return { contextSize: this.contextSize, details: { ...this.details } };
  }

  async generate(options: GenerateOptions): Promise<GenerateResult> {
    return this.generateAfter(this.renderer.chatTokens(options.messages), options);
  }

  /** Continues raw text (no chat template), as `/v1/completions` does; the text follows the BOS token. */
  async complete(options: Omit<GenerateOptions, "messages"> & { prompt: string }): Promise<GenerateResult> {
    return this.generateAfter(this.renderer.textTokens(options.prompt), options);
  }

  private async generateAfter(
    prompt: Token[],
    options: Omit<GenerateOptions, "messages">,
  ): Promise<GenerateResult> {
    const maxTokens = options.maxTokens ?? 256;
    this.assertFits(prompt.length + maxTokens, "the prompt plus max tokens");
    const topLogprobs = options.logprobs;
    const grammar = options.format ? await jsonGrammar(this.llama, options.format) : undefined;
    return this.withSequence(options.signal, prompt, async (sequence) => {
      const stream = new TextStream(options.stop ?? [], options.onText);
      const generated: Token[] = [];
      const logprobs: TokenLogprob[] = [];
      let finishReason: GenerateResult["finishReason"] = "length";
      if (maxTokens > 0) {
        const toEvaluate = await syncSequence(sequence, prompt);
        const sampling: TokenSampling = {
          temperature: options.temperature ?? 1,
          topP: options.topP ?? 1,
          probabilities: topLogprobs !== undefined,
          ...(options.seed !== undefined ? { seed: options.seed } : {}),
          ...(grammar ? { grammar: grammarState(this.model, grammar) } : {}),
        };
        // A grammar needs node-llama-cpp's own loop (its paired steps take none): JSON output is decoded
        // one token per step, so it is not bit-for-bit independent of what the context held before.
        const iterator: AsyncGenerator<DecodedToken> =
          this.deterministic && !grammar
            ? decodePaired(sequence, toEvaluate, sampling, defaultBatchSize)
            : decodeBatched(sequence, toEvaluate, sampling);
        for await (const output of iterator) {
          throwIfAborted(options.signal);
          if (this.model.isEogToken(output.token)) {
            finishReason = "stop";
            break;
          }
          generated.push(output.token);
          if (topLogprobs !== undefined && output.probabilities) {
            logprobs.push(this.tokenLogprob(output.token, output.probabilities, topLogprobs));
          }
          if (stream.update(this.model.detokenize(generated, false))) {
            finishReason = "stop";
            break;
          }
          if (generated.length >= maxTokens) break;
        }
      }
      const text = stream.finish();
      return {
        text,
        finishReason,
        usage: { inputTokens: prompt.length, outputTokens: generated.length },
        ...(topLogprobs !== undefined ? { logprobs } : {}),
      };
    });
  }

  /**
   * Samples a completion of `options.messages` as tokens, for on-policy training: the prompt's tokens (the
   * chat template's rendering), the sampled tokens — ending with the end-of-generation token when the
   * model ended its turn — and each one's log-probability under the distribution it was drawn from
   * (temperature applied; no top-k, top-p or min-p, so at temperature 1 that is the model's own). Only
   * the sampled token's probability is read, not the vocabulary's. Decoded as `generate` decodes, so the
   * same seed gives the same tokens.
   */
  async sampleCompletion(options: SampleCompletionOptions): Promise<SampledCompletion> {
    const prompt = this.renderer.chatTokens(options.messages);
    const maxTokens = options.maxTokens;
    this.assertFits(prompt.length + maxTokens, "the prompt plus max tokens");
    return this.withSequence(options.signal, prompt, async (sequence) => {
      const tokens: Token[] = [];
      const logprobs: number[] = [];
      let finishReason: GenerateResult["finishReason"] = "length";
      if (maxTokens > 0) {
        const toEvaluate = await syncSequence(sequence, prompt);
        const sampling: TokenSampling = {
          temperature: options.temperature ?? 1,
          topP: 1,
          probabilities: false,
          confidence: true,
          seed: options.seed,
        };
        const iterator = this.deterministic
          ? decodePaired(sequence, toEvaluate, sampling, defaultBatchSize)
          : decodeBatched(sequence, toEvaluate, sampling);
        for await (const output of iterator) {
          throwIfAborted(options.signal);
          tokens.push(output.token);
          logprobs.push(safeLog(output.confidence));
          if (this.model.isEogToken(output.token)) {
            finishReason = "stop";
            break;
          }
          if (tokens.length >= maxTokens) break;
        }
      }
      const text = this.model.detokenize(finishReason === "stop" ? tokens.slice(0, -1) : tokens, false);
      return { promptTokens: prompt, tokens, logprobs, text, finishReason };
    });
  }

  async scoreChoices(options: ScoreChoicesOptions): Promise<ChoiceScores> {
    assertValidChoices(options.choices);
    const scored = await this.scoreContinuations(options.prompt, options.choices, options.signal, true);
    const logprobs = scored.map((s) => s.logprob);
    return { probabilities: normaliseLogprobs(logprobs), logprobs, method: "exact" };
  }

  async logLikelihood(options: LogLikelihoodOptions): Promise<LogLikelihoodResult> {
    const [result] = await this.scoreContinuations(options.prefix, [options.continuation], options.signal);
    if (!result) throw new InvalidRequestError("nothing to score");
    return result;
  }

  /**
   * Log-probabilities of every token of `tokens` after the first, each given all before it (the first
   * has none: it is conditioned on nothing). What `/v1/completions` with `echo` reports.
   */
  async promptLogprobs(
    tokens: Token[],
    top: number,
    signal?: AbortSignal,
    options: { from?: number } = {},
  ): Promise<Array<{ logprob: number; top: Array<{ token: Token; logprob: number }> } | null>> {
    this.assertFits(tokens.length, "the prompt");
    const from = Math.max(1, options.from ?? 1);
    if (from >= tokens.length) return tokens.map(() => null);
    const context = tokens.slice(0, -1);
    // Only the last position wanted: the distribution after `context` may have just been computed.
    const key = from === tokens.length - 1 ? context.join(",") : undefined;
    const remembered = key === undefined ? undefined : this.recentDistributions.get(key);
    const entries = (distributions: Array<Map<Token, number>>) =>
      tokens.map((token, i) => {
        const distribution = i >= from ? distributions[i - from] : undefined;
        if (!distribution) return null;
        return { logprob: safeLog(distribution.get(token)), top: topEntries(distribution, top) };
      });
    if (remembered) return entries([remembered]);
    return this.withSequence(signal, context, async (sequence) => {
      const distributions = await evaluateDistributions(sequence, context, from - 1, defaultBatchSize);
      const [last] = distributions;
      if (key !== undefined && last) {
        this.recentDistributions.set(key, last);
        if (this.recentDistributions.size > 16)
          this.recentDistributions.delete(this.recentDistributions.keys().next().value as string);
      }
      return entries(distributions);
    });
  }

  /** The renderer, for servers that need the same tokens this model sees. */
  get prompts(): LlamaPromptRenderer {
    return this.renderer;
  }

  /** Text of tokens, as the model writes them (special tokens omitted unless `special`). */
  detokenize(tokens: readonly Token[], options: { special?: boolean } = {}): string {
    return this.model.detokenize(tokens, options.special ?? false);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all(this.contexts.map((context) => context.dispose()));
    await releaseLlamaModel(this.model);
  }

  private async scoreContinuations(
    prompt: ScoreChoicesOptions["prompt"],
    continuations: readonly string[],
    signal: AbortSignal | undefined,
    shareMerged = false,
  ): Promise<LogLikelihoodResult[]> {
    const { prefix, continuations: tokens } = this.renderer.split(prompt, continuations, { shareMerged });
    this.assertFits(
      prefix.length + Math.max(...tokens.map((t) => t.length)),
      "the prompt plus a continuation",
    );
    return this.withSequence(signal, prefix, async (sequence) => {
      // The distribution after the prefix serves every continuation's first token; later tokens of
      // longer continuations need their own evaluation after the prefix.
      const [afterPrefix] = await evaluateDistributions(
        sequence,
        prefix,
        prefix.length - 1,
        defaultBatchSize,
      );
      if (!afterPrefix) throw new InvalidRequestError("the prompt is empty");
      const results: LogLikelihoodResult[] = [];
      for (const continuation of tokens) {
        throwIfAborted(signal);
        const distributions = [afterPrefix];
        if (continuation.length > 1) {
          const whole = [...prefix, ...continuation.slice(0, -1)];
          distributions.push(
            ...(await evaluateDistributions(sequence, whole, prefix.length, defaultBatchSize)),
          );
        }
        let logprob = 0;
        let isGreedy = true;
        continuation.forEach((token, i) => {
          const distribution = distributions[i] ?? new Map<Token, number>();
          logprob += safeLog(distribution.get(token));
          if (argmax(distribution) !== token) isGreedy = false;
        });
        results.push({ logprob, tokenCount: continuation.length, isGreedy });
      }
      return results;
    });
  }

  private tokenLogprob(token: Token, distribution: Map<Token, number>, top: number): TokenLogprob {
    return {
      token: this.model.detokenize([token], false),
      logprob: safeLog(distribution.get(token)),
      top: topEntries(distribution, top).map((e) => ({
        token: this.model.detokenize([e.token], false),
        logprob: e.logprob,
      })),
    };
  }

  private assertFits(tokens: number, what: string): void {
    if (tokens > this.contextSize) {
      throw new InvalidRequestError(
        `${what} need ${tokens} tokens, more than the context size ${this.contextSize}; shorten it or load the model with a larger contextSize`,
      );
    }
  }

  private withSequence<T>(
    signal: AbortSignal | undefined,
    tokens: readonly Token[],
    work: (sequence: LlamaContextSequence) => Promise<T>,
  ) {
    if (this.closed) throw new InvalidRequestError(`model ${this.modelId} is closed`);
    throwIfAborted(signal);
    return this.pool.with(signal, work, tokens).catch((error: unknown) => {
      if (signal?.aborted) throw new ModelAbortedError(this.provider, { cause: error });
      throw error;
    });
  }
}

function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new ModelAbortedError("llama", { cause: signal.reason });
}

function argmax(distribution: Map<Token, number>): Token | undefined {
  let best: Token | undefined;
  let bestProbability = -1;
  for (const [token, probability] of distribution) {
    if (probability > bestProbability) {
      best = token;
      bestProbability = probability;
    }
  }
  return best;
}

/** The `count` most likely tokens, most likely first (a linear scan: vocabularies run to 150k). */
function topEntries(
  distribution: Map<Token, number>,
  count: number,
): Array<{ token: Token; logprob: number }> {
  if (count <= 0) return [];
  const best: Array<[Token, number]> = [];
  for (const entry of distribution) {
    if (best.length < count) {
      best.push(entry);
      best.sort((a, b) => b[1] - a[1]);
    } else if (entry[1] > (best[best.length - 1]?.[1] ?? 0)) {
      best[best.length - 1] = entry;
      best.sort((a, b) => b[1] - a[1]);
    }
  }
  return best.map(([token, probability]) => ({ token, logprob: safeLog(probability) }));
}
