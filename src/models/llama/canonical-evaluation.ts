// How the `llama:` backend feeds tokens to llama.cpp so that a token's logits depend on the tokens before
// it and nothing else: not on which call, resume or concurrency level evaluated its prefix. llama.cpp's CPU
// matrix products take one code path for a batch of one token (a dot product per row) and another for two
// or more (tiled GEMM), and the two round differently; every batch of two or more gives each token the
// same numbers, whatever else is in it or how a prompt is cut into pieces (measured on F32, F16 and Q8_0
// files, 1–3 threads: 0 difference; one-token batches: up to 8e-4 in a probability). So no batch here
// ever holds a single token: a cached prefix is kept only up to two tokens before the end, long inputs are
// cut into pieces of 2…batchSize tokens, and decoding evaluates the previous token again beside each new
// one (see token-generation.ts).
import type {
  ControlledEvaluateIndexOutput,
  ControlledEvaluateInputItem,
  LlamaContextSequence,
  Token,
} from "node-llama-cpp";
import { InvalidRequestError } from "../errors/invalid-request-error.js";

/** Fewest tokens a batch may hold: one-token batches take llama.cpp's other (differently rounded) path. */
export const minimumBatchTokens = 2;

/**
 * Makes `sequence` hold a prefix of `tokens` (keeping what it already shares with them, so repeated
 * prompts are not evaluated again) and returns the tokens still to evaluate: at least two when `tokens`
 * has two, so the last token is never evaluated alone.
 */
export async function syncSequence(
  sequence: LlamaContextSequence,
  tokens: readonly Token[],
): Promise<Token[]> {
  const keepAtMost = Math.max(0, tokens.length - minimumBatchTokens);
  const shared = Math.min(sequence.compareContextTokens([...tokens]).firstDifferentIndex, keepAtMost);
  if (shared < sequence.nextTokenIndex) {
    await sequence.eraseContextTokenRanges([{ start: shared, end: sequence.nextTokenIndex }]);
  }
  return tokens.slice(shared);
}

/**
 * Sizes of the pieces `count` tokens are evaluated in: at most `batchSize` each (so llama.cpp never cuts
 * a piece itself) and never one token, unless `count` is one.
 */
export function pieceSizes(count: number, batchSize: number): number[] {
  if (batchSize < minimumBatchTokens * 2) throw new RangeError(`batch size ${batchSize} is too small`);
  const sizes: number[] = [];
  let left = count;
  while (left > batchSize) {
    // A last piece of one token would run alone: take one token less now, leaving two.
    const take = left - batchSize === 1 ? batchSize - 1 : batchSize;
    sizes.push(take);
    left -= take;
  }
  if (left > 0) sizes.push(left);
  return sizes;
}

/**
 * Evaluates `items` into `sequence` piece by piece (see {@link pieceSizes}) and returns the outputs at
 * the items' indexes, as one `controlledEvaluate` call would.
 */
export async function evaluatePieces(
  sequence: LlamaContextSequence,
  items: readonly ControlledEvaluateInputItem[],
  batchSize: number,
): Promise<Array<ControlledEvaluateIndexOutput | undefined>> {
  const outputs: Array<ControlledEvaluateIndexOutput | undefined> = [];
  let start = 0;
  for (const size of pieceSizes(items.length, batchSize)) {
    const piece = await sequence.controlledEvaluate(items.slice(start, start + size));
    for (let i = 0; i < size; i += 1) outputs.push(piece[i]);
    start += size;
  }
  return outputs;
}

/**
 * Evaluates `tokens` into `sequence` and returns the next-token distribution after each position from
 * `from` on (index 0 of the result is the distribution after `tokens[from]`). Probabilities are read
 * with no sampling options set, which gives llama.cpp's full softmax over the vocabulary.
 */
export async function evaluateDistributions(
  sequence: LlamaContextSequence,
  tokens: readonly Token[],
  from: number,
  batchSize: number,
): Promise<Array<Map<Token, number>>> {
  let toEvaluate = await syncSequence(sequence, tokens);
  let offset = tokens.length - toEvaluate.length;
  if (offset > from) {
    // The sequence already held positions we need distributions for: evaluate them again (with the
    // token before when `from` is the last, so it is not evaluated alone).
    offset = Math.min(from, Math.max(0, tokens.length - minimumBatchTokens));
    await sequence.eraseContextTokenRanges([{ start: offset, end: sequence.nextTokenIndex }]);
    toEvaluate = tokens.slice(offset);
  }
  const output = await evaluatePieces(
    sequence,
    toEvaluate.map((token, i) =>
      offset + i >= from ? [token, { generateNext: { probabilities: true } }] : token,
    ),
    batchSize,
  );
  const distributions: Array<Map<Token, number>> = [];
  for (let i = from - offset; i < toEvaluate.length; i += 1) {
    const probabilities = output[i]?.next.probabilities;
    if (!probabilities) throw new InvalidRequestError("llama.cpp returned no probabilities");
    distributions.push(probabilities);
  }
  return distributions;
}
