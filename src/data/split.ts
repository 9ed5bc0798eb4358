// The fixed train/test split of prompt sets: about 20% of each category goes to test, chosen by a hash
// of the id, so the same ids always split the same way whatever their order in the file.
import { createHash } from "node:crypto";

/** Which part of a prompt set a record belongs to. */
export type PromptSplit = "train" | "test";

/** Share of each category that goes to the test split. */
export const defaultTestFraction = 0.2;

/** A number in [0, 1) fixed by the id: the first 48 bits of its SHA-256. */
export function splitHash(id: string): number {
  const digest = createHash("sha256").update(id, "utf8").digest();
  return digest.readUIntBE(0, 6) / 2 ** 48;
}

/**
 * The split of each id, stratified by category: within a category, ids are ranked by {@link splitHash}
 * and the lowest `round(n · testFraction)` go to test. The result does not depend on record order, and
 * adding a record to a category moves at most one other record across the line.
 */
export function assignSplits(
  records: ReadonlyArray<{ id: string; category: string }>,
  testFraction = defaultTestFraction,
): Map<string, PromptSplit> {
  const byCategory = new Map<string, string[]>();
  for (const { id, category } of records) {
    const ids = byCategory.get(category) ?? [];
    ids.push(id);
    byCategory.set(category, ids);
  }
  const splits = new Map<string, PromptSplit>();
  for (const ids of byCategory.values()) {
    const ranked = ids
      .map((id) => ({ id, hash: splitHash(id) }))
      .sort((a, b) => a.hash - b.hash || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    const testCount = Math.round(ranked.length * testFraction);
    for (const [rank, { id }] of ranked.entries()) splits.set(id, rank < testCount ? "test" : "train");
  }
  return splits;
}
