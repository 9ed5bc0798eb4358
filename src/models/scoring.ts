// Arithmetic shared by every backend that scores choices: validating the choices and normalising
// per-choice log-probabilities into probabilities that sum to 1.
import { InvalidRequestError } from "./errors/invalid-request-error.js";

/** Throws unless there are at least two choices, all non-empty and different. */
export function assertValidChoices(choices: readonly string[]): void {
  if (choices.length < 2) throw new InvalidRequestError("scoreChoices needs at least two choices");
  if (choices.some((c) => c.length === 0)) throw new InvalidRequestError("scoreChoices: a choice is empty");
  if (new Set(choices).size !== choices.length) throw new InvalidRequestError("scoreChoices: choices repeat");
}

/** log Σ exp(x), stable for large and for −Infinity inputs. */
export function logSumExp(values: readonly number[]): number {
  const max = Math.max(...values);
  if (max === Number.NEGATIVE_INFINITY) return max;
  let sum = 0;
  for (const v of values) sum += Math.exp(v - max);
  return max + Math.log(sum);
}

/**
 * Probabilities of the choices given their log-probabilities: softmax over the choices. When every
 * choice has probability 0 (all −Infinity, e.g. float32 underflow), they are equally likely.
 */
export function normaliseLogprobs(logprobs: readonly number[]): number[] {
  const total = logSumExp(logprobs);
  if (total === Number.NEGATIVE_INFINITY) return logprobs.map(() => 1 / logprobs.length);
  return logprobs.map((lp) => Math.exp(lp - total));
}

/** Natural log of a probability, with an exact 0 (float32 underflow in llama.cpp) mapped to −Infinity. */
export function safeLog(probability: number | undefined): number {
  return probability === undefined || probability <= 0 ? Number.NEGATIVE_INFINITY : Math.log(probability);
}
