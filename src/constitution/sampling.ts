// Draws principles at random, as the paper does at each critique round and for each AI feedback label:
// weighted, with replacement, and reproducible from a seed.
import type { SeededRandom } from "../random/seeded-random.js";

/**
 * One item drawn with probability proportional to its `weight` (1 when absent), with replacement. The
 * same seed and items give the same draws on every machine. Throws a `RangeError` for an empty list or
 * a weight that is not a positive finite number.
 */
export function samplePrinciple<T extends { weight?: number | undefined }>(
  items: readonly T[],
  random: SeededRandom,
): T {
  let total = 0;
  for (const item of items) {
    const weight = item.weight ?? 1;
    if (!(weight > 0 && Number.isFinite(weight)))
      throw new RangeError(`principle weights must be positive finite numbers, got ${weight}`);
    total += weight;
  }
  const last = items[items.length - 1];
  if (last === undefined) throw new RangeError("cannot draw a principle from an empty list");
  let point = random.next() * total;
  for (const item of items) {
    point -= item.weight ?? 1;
    if (point < 0) return item;
  }
  // Rounding can leave `point` a hair above zero after the last item.
  return last;
}
