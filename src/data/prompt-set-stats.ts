// Counting a prompt set: how many prompts of each category fall in each split, for `cai prompts show`
// and for checking that a set is balanced.
import type { PromptRecord } from "./prompt-set.js";

/** How many prompts of one category are in each split. */
export interface CategoryCount {
  category: string;
  train: number;
  test: number;
}

/** Counts per category, in the order categories first appear in `records`. */
export function countByCategory(
  records: readonly Pick<PromptRecord, "category" | "split">[],
): CategoryCount[] {
  const counts = new Map<string, CategoryCount>();
  for (const { category, split } of records) {
    const count = counts.get(category) ?? { category, train: 0, test: 0 };
    count[split] += 1;
    counts.set(category, count);
  }
  return [...counts.values()];
}
