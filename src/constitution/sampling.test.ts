import { describe, expect, it } from "vitest";
import { SeededRandom } from "../random/seeded-random.js";
import { samplePrinciple } from "./sampling.js";

const items = [{ id: "a" }, { id: "b", weight: 2 }, { id: "c", weight: 1 }, { id: "d", weight: 4 }];

function draws(seed: number, count: number): string[] {
  const random = new SeededRandom(seed);
  return Array.from({ length: count }, () => samplePrinciple(items, random).id);
}

describe("principle sampling", () => {
  it("draws the same principles for the same seed", () => {
    expect(draws(7, 50)).toEqual(draws(7, 50));
    expect(draws(7, 50)).not.toEqual(draws(8, 50));
  });

  it("draws in proportion to the weights, with replacement", () => {
    const n = 10_000;
    const counts = new Map<string, number>();
    for (const id of draws(42, n)) counts.set(id, (counts.get(id) ?? 0) + 1);
    const total = 1 + 2 + 1 + 4;
    for (const item of items) {
      const expected = (item.weight ?? 1) / total;
      // Four standard deviations of a binomial proportion: fails by chance far less than once in 10,000 runs.
      const tolerance = 4 * Math.sqrt((expected * (1 - expected)) / n);
      expect(Math.abs((counts.get(item.id) ?? 0) / n - expected), item.id).toBeLessThan(tolerance);
    }
  });

  it("refuses an empty list and weights that are not positive", () => {
    const random = new SeededRandom(1);
    expect(() => samplePrinciple([], random)).toThrow(RangeError);
    expect(() => samplePrinciple([{ weight: 0 }], random)).toThrow(/positive finite/);
    expect(() => samplePrinciple([{ weight: Number.NaN }], random)).toThrow(/positive finite/);
    expect(samplePrinciple([{ weight: 0.5, id: "only" }], random).id).toBe("only");
  });
});
