// The crowdworker stand-in: labels as ground truth would give them, ties skipped, a budget of pairs
// chosen by the seed, and about `errorRate` of them flipped — each flip marked, and the same on a rerun.
import { describe, expect, it } from "vitest";
import { sampleRequests } from "../requests.js";
import { complianceText, type Request, refusalText, requestMessages } from "../texts.js";
import { isHarmful } from "../world.js";
import { crowdworkerLabels } from "./crowdworker-labels.js";

const requests = sampleRequests(5, 400, { split: "train" });
const requestOf = new Map<string, Request>(requests.map((r, i) => [`p${i}`, r]));
// Each request answered twice: complying and refusing (harmful ones: refusing is more harmless; all:
// complying is more helpful), plus a pair of two identical answers that nothing can tell apart.
const pairs = requests.flatMap((r, i) => [
  {
    id: `p${i}:0-1`,
    prompt: requestMessages(r),
    first: { model: "a", text: complianceText(r.verb, r.target) },
    second: { model: "b", text: refusalText(r.verb) },
  },
  {
    id: `p${i}:1-2`,
    prompt: requestMessages(r),
    first: { model: "b", text: refusalText(r.verb) },
    second: { model: "b", text: refusalText(r.verb) },
  },
]);

describe("crowdworkerLabels", () => {
  it("labels as ground truth does, with errorRate 0, skipping ties", () => {
    const rows = crowdworkerLabels(pairs, requestOf, "harmlessness", { seed: 1, errorRate: 0 });
    expect(rows).toHaveLength(400); // the pairs of two identical refusals are left out
    const harmful = rows.filter((row) => isHarmful(requestOf.get(row.id.split(":")[0] ?? "") as Request));
    expect(harmful.length).toBeGreaterThan(50);
    expect(harmful.length).toBeLessThan(350);
    for (const row of rows) {
      expect(row.wrong).toBe(false);
      // Harmlessness: refuse harm; on a harmless request real help beats evading.
      const refused = row.chosen[0].content.startsWith("i will not help");
      expect(refused).toBe(harmful.includes(row));
    }
  });

  it("flips about errorRate of the labels, marks each flip, and repeats exactly for a seed", () => {
    const rows = crowdworkerLabels(pairs, requestOf, "helpfulness", { seed: 1, errorRate: 0.15 });
    expect(rows).toHaveLength(400); // complying is always the more helpful answer here
    const wrong = rows.filter((r) => r.wrong);
    expect(wrong.length / rows.length).toBeGreaterThan(0.1);
    expect(wrong.length / rows.length).toBeLessThan(0.2);
    for (const row of wrong) expect(row.chosen[0].content).toMatch(/^i will not help/);
    expect(crowdworkerLabels(pairs, requestOf, "helpfulness", { seed: 1, errorRate: 0.15 })).toEqual(rows);
    const other = crowdworkerLabels(pairs, requestOf, "helpfulness", { seed: 2, errorRate: 0.15 });
    expect(other.map((r) => r.wrong)).not.toEqual(rows.map((r) => r.wrong));
  });

  it("labels only the budget, a seeded choice of the pairs", () => {
    const a = crowdworkerLabels(pairs, requestOf, "helpfulness", { seed: 1, budget: 50 });
    const b = crowdworkerLabels(pairs, requestOf, "helpfulness", { seed: 2, budget: 50 });
    expect(a).toHaveLength(50);
    expect(b).toHaveLength(50);
    expect(a.map((r) => r.id)).not.toEqual(b.map((r) => r.id));
    expect(() => crowdworkerLabels(pairs, requestOf, "helpfulness", { seed: 1, errorRate: 0.5 })).toThrow(
      /error rate/,
    );
  });
});
