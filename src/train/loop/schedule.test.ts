// The learning-rate schedule: linear warmup, cosine decay, floor.
import { describe, expect, it } from "vitest";
import { lrAt } from "./schedule.js";

const schedule = { peak: 1e-3, warmupSteps: 4, totalSteps: 14, minRatio: 0.1 };

describe("lrAt", () => {
  it("warms up linearly to the peak", () => {
    expect(lrAt(1, schedule)).toBeCloseTo(0.25e-3, 15);
    expect(lrAt(2, schedule)).toBeCloseTo(0.5e-3, 15);
    expect(lrAt(4, schedule)).toBe(1e-3);
  });

  it("decays by a half cosine to the floor and stays there", () => {
    // Halfway through the decay (step 9 of 4..14): floor + (peak − floor) / 2.
    expect(lrAt(9, schedule)).toBeCloseTo(0.55e-3, 15);
    expect(lrAt(14, schedule)).toBeCloseTo(1e-4, 15);
    expect(lrAt(100, schedule)).toBeCloseTo(1e-4, 15);
    for (let step = 5; step <= 14; step += 1)
      expect(lrAt(step, schedule)).toBeLessThan(lrAt(step - 1, schedule));
  });

  it("starts the decay at once without warmup and defaults the floor to 10%", () => {
    const noWarmup = { peak: 2, warmupSteps: 0, totalSteps: 10 };
    expect(lrAt(1, noWarmup)).toBeCloseTo(0.2 + 1.8 * 0.5 * (1 + Math.cos(Math.PI / 10)), 12);
    expect(lrAt(10, noWarmup)).toBeCloseTo(0.2, 12);
    expect(lrAt(0, noWarmup)).toBe(0);
  });

  it("holds the peak when the warmup covers the whole run, then the floor", () => {
    const allWarmup = { peak: 1, warmupSteps: 5, totalSteps: 5, minRatio: 0 };
    expect(lrAt(5, allWarmup)).toBe(1);
    expect(lrAt(6, allWarmup)).toBe(0);
  });

  it("rejects invalid parameters", () => {
    expect(() => lrAt(1, { ...schedule, peak: -1 })).toThrow(/peak/);
    expect(() => lrAt(1, { ...schedule, warmupSteps: 1.5 })).toThrow(/warmup/);
    expect(() => lrAt(1, { ...schedule, totalSteps: 0 })).toThrow(/total/);
    expect(() => lrAt(1, { ...schedule, minRatio: 2 })).toThrow(/minRatio/);
  });
});
