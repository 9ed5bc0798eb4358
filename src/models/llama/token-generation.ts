// The two ways the `llama:` backend decodes: paired (the default), where every step evaluates the previous
// token again beside the new one so no batch holds one token and a generation depends only on its prompt
// and seed (see canonical-evaluation.ts), and batched, node-llama-cpp's own loop, faster on one stream
// (one row per step) but rounding differently with what shares its batches.
import type { LlamaContextSequence, LlamaGrammarEvaluationState, Token } from "node-llama-cpp";
import { InvalidRequestError } from "../errors/invalid-request-error.js";
import { evaluatePieces } from "./canonical-evaluation.js";

/** How to sample each token. */
export interface TokenSampling {
  temperature: number;
  topP: number;
  /** Seed of the whole generation; without it each generation draws its own. */
  seed?: number;
  /** Also return the next-token distribution at each step (for log-probs). */
  probabilities: boolean;
  /** Also return the sampled token's probability (cheap: no vocabulary-sized map). */
  confidence?: boolean;
  /** A grammar the text must follow (batched decoding only: node-llama-cpp's own loop applies it). */
  grammar?: LlamaGrammarEvaluationState;
}

/** One generated token, with the distribution it was drawn from when asked for. */
export interface DecodedToken {
  token: Token;
  probabilities?: Map<Token, number>;
  /** The sampled token's probability, when `confidence` was asked. */
  confidence?: number;
}

/**
 * The sampler seed of step `step` of a generation seeded `seed`: each step samples with a fresh native
 * sampler, so the steps need seeds of their own, and a fixed function of (seed, step) keeps a generation
 * the same wherever it runs. MurmurHash3's 32-bit finaliser, written out: four lines, no library needed.
 */
export function stepSeed(seed: number, step: number): number {
  let h = (seed ^ Math.imul(step + 1, 0x9e3779b1)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/**
 * Decodes after `toEvaluate` (the prompt tokens the sequence does not hold yet, at least two unless the
 * prompt is one token), one token per step, until the caller stops iterating. Each step erases the last
 * evaluated token and evaluates it again together with the new one: both are then computed in a batch of
 * two, as a prompt holding them would compute them, so the sequence's cache is the same as if the
 * generated text had been given as a prompt, and later calls can reuse it.
 */
export async function* decodePaired(
  sequence: LlamaContextSequence,
  toEvaluate: readonly Token[],
  sampling: TokenSampling,
  batchSize: number,
): AsyncGenerator<DecodedToken> {
  const seed = sampling.seed ?? Math.floor(Math.random() * 2 ** 32);
  const next = (step: number) =>
    ({
      generateNext: {
        token: true,
        probabilities: sampling.probabilities,
        ...(sampling.confidence ? { confidence: true } : {}),
        options: {
          temperature: sampling.temperature,
          topP: sampling.topP,
          topK: 0,
          minP: 0,
          seed: stepSeed(seed, step),
        },
      },
    }) as const;
  const last = toEvaluate.length - 1;
  const prompt = await evaluatePieces(
    sequence,
    toEvaluate.map((token, i) => (i === last ? ([token, next(0)] as const) : token)),
    batchSize,
  );
  let previous = toEvaluate[last] as Token;
  let output = prompt[last]?.next;
  for (let step = 1; ; step += 1) {
    const token = output?.token;
    if (token === undefined || token === null) throw new InvalidRequestError("llama.cpp sampled no token");
    yield {
      token,
      ...(output?.probabilities ? { probabilities: output.probabilities } : {}),
      ...(output?.confidence !== undefined ? { confidence: output.confidence } : {}),
    };
    const end = sequence.nextTokenIndex;
    await sequence.eraseContextTokenRanges([{ start: end - 1, end }]);
    const pair = await sequence.controlledEvaluate([previous, [token, next(step)]]);
    previous = token;
    output = pair[1]?.next;
  }
}

/** node-llama-cpp's own decoding loop: one token per step, batched with whatever else runs. */
export async function* decodeBatched(
  sequence: LlamaContextSequence,
  toEvaluate: readonly Token[],
  sampling: TokenSampling,
): AsyncGenerator<DecodedToken> {
  const iterator = sequence.evaluateWithMetadata(
    [...toEvaluate],
    { probabilities: sampling.probabilities, ...(sampling.confidence ? { confidence: true } : {}) },
    {
      temperature: sampling.temperature,
      topP: sampling.topP,
      topK: 0,
      minP: 0,
      // Without this node-llama-cpp ends the iteration silently at end-of-generation, and a finished
      // turn could not be told from running out of tokens.
      yieldEogToken: true,
      ...(sampling.seed !== undefined ? { seed: sampling.seed } : {}),
      ...(sampling.grammar ? { grammarEvaluationState: sampling.grammar } : {}),
    },
  );
  for await (const output of iterator) {
    const { probabilities, confidence } = output as {
      probabilities?: Map<Token, number>;
      confidence?: number;
    };
    yield {
      token: output.token,
      ...(probabilities ? { probabilities } : {}),
      ...(confidence !== undefined ? { confidence } : {}),
    };
  }
}
