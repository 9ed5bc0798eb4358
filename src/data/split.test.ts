import { describe, expect, it } from "vitest";
import { assignSplits, splitHash } from "./split.js";

const records = Array.from({ length: 50 }, (_, i) => ({ id: `p-${i}`, category: i < 30 ? "a" : "b" }));

describe("the train/test split", () => {
  it("puts round(20%) of each category in test, the same way whatever the order", () => {
    const splits = assignSplits(records);
    const tests = (category: string) =>
      records.filter((r) => r.category === category && splits.get(r.id) === "test").length;
    expect([tests("a"), tests("b")]).toEqual([6, 4]);
    expect(assignSplits([...records].reverse())).toEqual(splits);
    expect(splitHash("p-1")).toBe(splitHash("p-1"));
    expect(splitHash("p-1")).toBeGreaterThanOrEqual(0);
    expect(splitHash("p-1")).toBeLessThan(1);
  });

  it("moves at most one other record when one is added to a category", () => {
    const before = assignSplits(records);
    const after = assignSplits([...records, { id: "p-new", category: "a" }]);
    const moved = records.filter((r) => before.get(r.id) !== after.get(r.id));
    expect(moved.length).toBeLessThanOrEqual(1);
  });
});
