// The `llama:` backend: a GGUF model run in-process by llama.cpp (node-llama-cpp), with optional LoRA
// adapters. Concurrent calls borrow parallel sequences of one context, so llama.cpp batches them.
import type { LlamaContext, LlamaContextSequence, LlamaModel, Token } from "node-llama-cpp";
import { InvalidRequestError } from "../errors/invalid-request-error.js";
import { ModelAbortedError } from "../errors/model-aborted-error.js";
import { ModelLoadError } from "../errors/model-load-error.js";
import type {
  ChoiceScores,
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
import { LlamaPromptRenderer } from "./llama-prompt.js";
import {
  acquireLlamaModel,
  fileIdentity,
  type LlamaGpuChoice,
  llamaRuntime,
  releaseLlamaModel,
} from "./llama-runtime.js";
import { SequencePool } from "./sequence-pool.js";
import { serializeSampling } from "./serial-sampling.js";
import { TextStream } from "./text-stream.js";
import { chooseThreads } from "./thread-choice.js";

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
  /** Sequences run in parallel (concurrent calls beyond this wait). Default 4. */
  parallel?: number;
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
};

/** How many tokens llama.cpp evaluates per batch when scoring; also caps one scoring call's length. */
const defaultBatchSize = 512;

/** A GGUF model run in-process by llama.cpp. */
export class LlamaLanguageModel implements LanguageModel {
  readonly provider = "llama";
  readonly capabilities = capabilities;
  private closed = false;

  private constructor(
    readonly modelId: string,
    readonly fingerprint: string,
    private readonly model: LlamaModel,
    private readonly context: LlamaContext,
    private readonly pool: SequencePool,
    private readonly renderer: LlamaPromptRenderer,
    private readonly details: ModelInfo["details"],
  ) {}

  /** Loads `modelPath` (sharing its weights with other instances in this process) and opens a context. */
  static async load(modelPath: string, options: LlamaModelOptions = {}): Promise<LlamaLanguageModel> {
    const gpu = options.gpu ?? "auto";
    const adapters = options.adapters ?? [];
    const adapterKeys = await Promise.all(
      adapters.map(async (a) => `${await fileIdentity(a.path)}@${a.scale ?? 1}`),
    );
    const fileKey = await fileIdentity(modelPath);
    const model = await acquireLlamaModel(modelPath, gpu);
    try {
      const llama = await llamaRuntime(gpu);
      const threads =
        typeof options.threads === "number"
          ? options.threads
          : (await chooseThreads(llama, model, fileKey)).threads;
      const parallel = Math.max(1, options.parallel ?? 4);
      const contextSize = Math.min(
        options.contextSize ?? Math.min(model.trainContextSize, 8192),
        model.trainContextSize,
      );
      const context = await model
        .createContext({
          contextSize,
          sequences: parallel,
          threads,
          batchSize: defaultBatchSize,
          flashAttention: false,
          ...(options.exactKvCache
            ? { experimentalKvCacheKeyType: "F32", experimentalKvCacheValueType: "F32" }
            : {}),
          ...(adapters.length > 0
            ? { lora: { adapters: adapters.map((a) => ({ filePath: a.path, scale: a.scale ?? 1 })) } }
            : {}),
        })
        .catch((error: unknown) => {
          const reason = error instanceof Error ? error.message : String(error);
          const culprit = adapters.length > 0 ? adapters.map((a) => a.path).join("+") : modelPath;
          throw new ModelLoadError(culprit, `cannot create a context: ${reason}`, { cause: error });
        });
      if (parallel > 1 && !serializeSampling(context))
        throw new ModelLoadError(
          modelPath,
          "this node-llama-cpp cannot be made to read parallel sequences' logits safely; use parallel 1",
        );
      const sequences = Array.from({ length: parallel }, () => context.getSequence());
      const name = options.name ?? modelPath.split(/[\\/]/).pop() ?? modelPath;
      const fingerprint = ["llama", fileKey, ...adapterKeys, options.exactKvCache ? "kv-f32" : "kv-f16"].join(
        "|",
      );
      const renderer = new LlamaPromptRenderer(model);
      return new LlamaLanguageModel(
        name,
        fingerprint,
        model,
        context,
        new SequencePool(sequences),
        renderer,
        {
          file: modelPath,
          architecture: model.fileInfo.metadata.general.architecture ?? "unknown",
          ...(adapters.length > 0
            ? { adapters: adapters.map((a) => `${a.path}@${a.scale ?? 1}`).join(" + ") }
            : {}),
          threads,
          parallel,
          chatTemplate: renderer.templateName,
          sizeBytes: model.size,
        },
      );
    } catch (error) {
      await releaseLlamaModel(model);
      throw error;
    }
  }

  async info(): Promise<ModelInfo> {
    return { contextSize: this.context.contextSize, details: { ...this.details } };
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
    return this.withSequence(options.signal, async (sequence) => {
      const toEvaluate = await syncSequence(sequence, prompt);
      const stream = new TextStream(options.stop ?? [], options.onText);
      const generated: Token[] = [];
      const logprobs: TokenLogprob[] = [];
      let finishReason: GenerateResult["finishReason"] = "length";
      const temperature = options.temperature ?? 1;
      const iterator = sequence.evaluateWithMetadata(
        toEvaluate,
        { probabilities: topLogprobs !== undefined },
        {
          temperature,
          topP: options.topP ?? 1,
          topK: 0,
          minP: 0,
          // Without this node-llama-cpp ends the iteration silently at end-of-generation, and a
          // finished turn could not be told from running out of tokens.
          yieldEogToken: true,
          ...(options.seed !== undefined ? { seed: options.seed } : {}),
        },
      );
      if (maxTokens > 0) {
        for await (const output of iterator) {
          throwIfAborted(options.signal);
          if (this.model.isEogToken(output.token)) {
            finishReason = "stop";
            break;
          }
          generated.push(output.token);
          const probabilities = (output as { probabilities?: Map<Token, number> }).probabilities;
          if (topLogprobs !== undefined && probabilities) {
            logprobs.push(this.tokenLogprob(output.token, probabilities, topLogprobs));
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
  ): Promise<Array<{ logprob: number; top: Array<{ token: Token; logprob: number }> } | null>> {
    this.assertFits(tokens.length, "the prompt");
    return this.withSequence(signal, async (sequence) => {
      const distributions = await evaluateDistributions(sequence, tokens.slice(0, -1), 0);
      return tokens.map((token, i) => {
        const distribution = distributions[i - 1];
        if (i === 0 || !distribution) return null;
        return { logprob: safeLog(distribution.get(token)), top: topEntries(distribution, top) };
      });
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
    await this.context.dispose();
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
    return this.withSequence(signal, async (sequence) => {
      // The distribution after the prefix serves every continuation's first token; later tokens of
      // longer continuations need their own evaluation after the prefix.
      const [afterPrefix] = await evaluateDistributions(sequence, prefix, prefix.length - 1);
      if (!afterPrefix) throw new InvalidRequestError("the prompt is empty");
      const results: LogLikelihoodResult[] = [];
      for (const continuation of tokens) {
        throwIfAborted(signal);
        const distributions = [afterPrefix];
        if (continuation.length > 1) {
          const whole = [...prefix, ...continuation.slice(0, -1)];
          distributions.push(...(await evaluateDistributions(sequence, whole, prefix.length)));
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
    if (tokens > this.context.contextSize) {
      throw new InvalidRequestError(
        `${what} need ${tokens} tokens, more than the context size ${this.context.contextSize}; shorten it or load the model with a larger contextSize`,
      );
    }
  }

  private withSequence<T>(
    signal: AbortSignal | undefined,
    work: (sequence: LlamaContextSequence) => Promise<T>,
  ) {
    if (this.closed) throw new InvalidRequestError(`model ${this.modelId} is closed`);
    throwIfAborted(signal);
    return this.pool.with(signal, work).catch((error: unknown) => {
      if (signal?.aborted) throw new ModelAbortedError(this.provider, { cause: error });
      throw error;
    });
  }
}

function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new ModelAbortedError("llama", { cause: signal.reason });
}

/**
 * Makes `sequence` hold a prefix of `tokens` (keeping what it already shares with them, so repeated
 * prompts are not re-evaluated) and returns the tokens still to evaluate: always at least one, since
 * the next-token distribution comes from evaluating the last token.
 */
async function syncSequence(sequence: LlamaContextSequence, tokens: Token[]): Promise<Token[]> {
  const shared = Math.min(sequence.compareContextTokens(tokens).firstDifferentIndex, tokens.length - 1);
  if (shared < sequence.nextTokenIndex) {
    await sequence.eraseContextTokenRanges([{ start: shared, end: sequence.nextTokenIndex }]);
  }
  return tokens.slice(shared);
}

/**
 * Evaluates `tokens` into `sequence` and returns the next-token distribution after each position from
 * `from` on (index 0 of the result is the distribution after `tokens[from]`). Probabilities are read
 * with no sampling options set, which gives llama.cpp's full softmax over the vocabulary.
 */
async function evaluateDistributions(
  sequence: LlamaContextSequence,
  tokens: Token[],
  from: number,
): Promise<Array<Map<Token, number>>> {
  const toEvaluate = await syncSequence(sequence, tokens);
  const offset = tokens.length - toEvaluate.length;
  if (offset > from) {
    // The sequence already held positions we need distributions for: evaluate them again.
    await sequence.eraseContextTokenRanges([{ start: from, end: sequence.nextTokenIndex }]);
    return evaluateDistributions(sequence, tokens, from);
  }
  const output = await sequence.controlledEvaluate(
    toEvaluate.map((token, i) =>
      offset + i >= from ? [token, { generateNext: { probabilities: true } }] : token,
    ),
  );
  const distributions: Array<Map<Token, number>> = [];
  for (let i = from - offset; i < toEvaluate.length; i += 1) {
    const probabilities = output[i]?.next.probabilities;
    if (!probabilities) throw new InvalidRequestError("llama.cpp returned no probabilities");
    distributions.push(probabilities);
  }
  return distributions;
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
