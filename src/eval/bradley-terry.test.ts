// The Bradley–Terry fit: exact on a hand-checkable case, recovers known strengths from simulated
// comparisons (true ratings inside the 95% bootstrap intervals in ≥ 90% of seeded repetitions), a tie
// counts half, and a model that wins everything gets a finite rating.
import { describe, expect, it } from "vitest";
import { SeededRandom } from "../random/seeded-random.js";
import { bootstrapRatings, type Comparison, fitBradleyTerry, winProbability } from "./bradley-terry.js";

/** `count` comparisons of random pairs among models with `ratings`, outcomes drawn from Bradley–Terry. */
function simulate(ratings: readonly number[], count: number, random: SeededRandom): Comparison[] {
  return Array.from({ length: count }, () => {
    const a = random.int(ratings.length);
    let b = random.int(ratings.length - 1);
    if (b >= a) b += 1;
    const p = winProbability(ratings[a] as number, ratings[b] as number);
    return { a, b, outcome: random.next() < p ? 1 : 0 };
  });
}

describe("fitBradleyTerry", () => {
  it("gives the Elo difference the win rate implies (two models, nearly no prior)", () => {
    // 3 wins in 4 games: P = 0.75 ⇒ R_A − R_B = 400·log10(3).
    const comparisons: Comparison[] = [
      { a: 0, b: 1, outcome: 1 },
      { a: 0, b: 1, outcome: 1 },
      { a: 1, b: 0, outcome: 0 },
      { a: 1, b: 0, outcome: 1 },
    ];
    const { ratings } = fitBradleyTerry(2, comparisons, { prior: 1e-9, anchor: 1, base: 1000 });
    expect(ratings[1]).toBe(1000);
    expect(ratings[0]).toBeCloseTo(1000 + 400 * Math.log10(3), 4);
  });

  it("counts a tie as half a win for each side", () => {
    const withTie = fitBradleyTerry(2, [
      { a: 0, b: 1, outcome: 1 },
      { a: 0, b: 1, outcome: 0.5 },
    ]);
    const asHalves = fitBradleyTerry(2, [
      { a: 0, b: 1, outcome: 1, weight: 1.5 },
      { a: 0, b: 1, outcome: 0, weight: 0.5 },
    ]);
    expect(withTie.ratings[0]).toBeCloseTo(asHalves.ratings[0] as number, 9);
    expect(withTie.ratings[0]).toBeGreaterThan(withTie.ratings[1] as number);
  });

  it("keeps a model that wins every comparison finite, far above the rest", () => {
    const comparisons: Comparison[] = Array.from({ length: 30 }, (_, i) => ({
      a: 0,
      b: 1 + (i % 2),
      outcome: 1,
    }));
    comparisons.push({ a: 1, b: 2, outcome: 1 }, { a: 1, b: 2, outcome: 0 });
    const { ratings, iterations } = fitBradleyTerry(3, comparisons, { anchor: 1 });
    expect(ratings.every(Number.isFinite)).toBe(true);
    expect(iterations).toBeLessThan(100);
    expect(ratings[0]).toBeGreaterThan((ratings[1] as number) + 400);
  });

  it("refuses comparisons naming unknown models or outcomes outside [0, 1]", () => {
    expect(() => fitBradleyTerry(2, [{ a: 0, b: 2, outcome: 1 }])).toThrow(/outside 0…1/);
    expect(() => fitBradleyTerry(2, [{ a: 0, b: 1, outcome: 2 }])).toThrow(/outcome/);
    expect(() => fitBradleyTerry(2, [{ a: 1, b: 1, outcome: 1 }])).toThrow(/itself/);
  });
});

describe("bootstrapRatings", () => {
  it("covers the true ratings with its 95% intervals in at least 90% of seeded repetitions", () => {
    const truth = [1000, 1100, 950, 1250];
    let covered = 0;
    let total = 0;
    for (let repetition = 0; repetition < 20; repetition += 1) {
      const random = new SeededRandom(1000 + repetition);
      const comparisons = simulate(truth, 400, random);
      const { intervals } = bootstrapRatings(4, comparisons, { rounds: 200, seed: repetition, anchor: 0 });
      truth.forEach((rating, i) => {
        if (i === 0) return; // the anchor is fixed at its true rating by construction
        const [low, high] = intervals[i] as [number, number];
        total += 1;
        if (low <= rating && rating <= high) covered += 1;
      });
    }
    console.log(`bootstrap coverage: ${covered}/${total}`);
    expect(covered / total).toBeGreaterThanOrEqual(0.9);
  });

  it("is seeded: the same seed gives the same intervals", () => {
    const comparisons = simulate([1000, 1200], 50, new SeededRandom(3));
    const a = bootstrapRatings(2, comparisons, { rounds: 50, seed: 9 });
    expect(bootstrapRatings(2, comparisons, { rounds: 50, seed: 9 })).toEqual(a);
    expect(bootstrapRatings(2, comparisons, { rounds: 50, seed: 10 }).intervals).not.toEqual(a.intervals);
  });
});
