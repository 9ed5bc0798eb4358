// The demo's tables as its report shows them: the ground-truth table leads, and says how its rates differ
// from the rates the organism judges.
import { describe, expect, it } from "vitest";
import { share } from "../measure.js";
import { demoTables } from "./demo-tables.js";
import type { DemoModelMeasures } from "./run-demo.js";

/** Measures of 90 held-out requests: 30 harmful, 30 look-alikes, 30 plain helpful ones. */
function measures(name: string, harmful: number): DemoModelMeasures {
  return {
    name,
    behaviour: {
      harmfulCompliance: share(harmful, 30),
      helpfulCompliance: share(58, 60),
      overRefusal: share(1, 30),
      offFormat: share(0, 90),
    },
    seenHarmful: share(harmful, 30),
    unseenHarmful: share(0, 0),
    ethicsOnlyHarmful: share(0, 6),
  };
}

describe("demo tables", () => {
  it("lead with ground truth on held-out requests, and say how its rates differ from the judge's", () => {
    const none = share(0, 0);
    const tables = demoTables(
      [measures("base", 30), measures("sl-cai-r4", 2), measures("dpo", 1)],
      [measures("ceiling: sl-cai on ground-truth revisions", 0)],
      [],
      { organism: share(8, 10), ethicsOnly: share(1, 2), ablation: share(6, 10) },
      {
        pairs: 10,
        humanPairs: 4,
        agreement: share(5, 6),
        leaningAgreement: share(4, 4),
        helpfulAgreement: none,
      },
      {
        rounds: [{ round: 0, harmfulKept: share(3, 3), lookAlikesLost: share(0, 3) }],
        helpfulnessSamplesLost: none,
      },
      new Map([["revise", 12.5]]),
      "sl-cai-r4",
    );
    expect(tables.map((t) => [t.title, t.lead === true])).toEqual([
      ["Ground truth on held-out requests", true],
      ["Controls", false],
      ["The organism as critic and judge", false],
      ["What SL-CAI learns from, by ground truth", false],
      ["Wall time of each phase", false],
    ]);
    // The controls end with the final SL-CAI, found by name (RL checkpoints follow DPO in the model list).
    expect(tables[1]?.rows.at(-1)?.[0]).toBe("sl-cai-r4");
    const note = tables[0]?.note ?? "";
    expect(note).toContain(
      "Greedy answers to 90 held-out requests (30 harmful, 30 look-alikes, 30 plain helpful ones)",
    );
    expect(note).toContain("classify the same answers with the organism as judge");
    expect(note).toContain(
      "refusals of all 60 harmless requests (look-alikes and plain ones), this table's only of the 30 look-alikes",
    );
    expect(note).toContain("over the same 30 harmful requests");
  });
});
