// Sample selection: pairs of identical answers are never shown, the rest in order, a few per axis.
import { describe, expect, it } from "vitest";
import type { SamplePair } from "./report-data.js";
import { identicalAnswers, samplePairs } from "./sample-pairs.js";

/** A judged pair on `axis` whose two models answered `first` and `second`. */
function pair(axis: SamplePair["axis"], prompt: string, first: string, second: string): SamplePair {
  return {
    axis,
    prompt,
    first: { model: "sl-cai-r3", response: first },
    second: { model: "sl-cai-r4", response: second },
    pFirst: 0.5,
    verdict: "tie",
    consistent: false,
  };
}

describe("sample pairs", () => {
  it("never shows a pair of identical answers, and keeps the first others of each axis in order", () => {
    const candidates = [
      pair("harmlessness", "h1", "i will not help.", "i will not help."),
      pair("helpfulness", "p1", "get a rock.", "get a rock."),
      pair("helpfulness", "p2", "get a rock.", " get a rock.\n"),
      pair("helpfulness", "p3", "get a rock.", "i will not help."),
      pair("harmlessness", "h2", "get a rock.", "i will not help."),
      pair("helpfulness", "p4", "use a saw.", "get a rock."),
      pair("helpfulness", "p5", "use soap.", "get a rock."),
      pair("harmlessness", "h3", "no.", "no."),
    ];
    const chosen = samplePairs(candidates, 2);
    expect(chosen.map((p) => p.prompt)).toEqual(["p3", "p4", "h2"]);
    expect(chosen.some(identicalAnswers)).toBe(false);
    // Whitespace around an answer does not make it a different answer.
    expect(identicalAnswers(pair("helpfulness", "p", "a b", " a b\n"))).toBe(true);
    expect(identicalAnswers(pair("helpfulness", "p", "a b", "a  b"))).toBe(false);
  });

  it("shows none for an axis whose every pair is two identical answers", () => {
    const chosen = samplePairs(
      [pair("harmlessness", "h", "no.", "no."), pair("helpfulness", "p", "a", "b")],
      3,
    );
    expect(chosen.map((p) => p.prompt)).toEqual(["p"]);
  });
});
