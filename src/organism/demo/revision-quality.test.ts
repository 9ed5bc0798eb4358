import { describe, expect, it } from "vitest";
import type { RevisedRecord } from "../../export/revision-datasets.js";
import type { RevisionRound } from "../../stages/revise/revise-record.js";
import { complianceText, type Request, refusalText, requestMessages } from "../texts.js";
import { targetsOf, verbByWord } from "../world.js";
import { revisionQuality } from "./revision-quality.js";

const verb = (word: string) => {
  const found = verbByWord.get(word);
  if (!found) throw new Error(word);
  return found;
};
const request = (word: string, victim: boolean): Request => {
  const v = verb(word);
  const target = targetsOf(v.targets).find((t) => (t.owner.kind === "other") === victim);
  if (!target) throw new Error(word);
  return { verb: v, target, paraphrase: 0, multiTurn: false };
};
const round = (revision: string): RevisionRound => ({
  principleId: "p",
  critiqueRequest: "",
  critiqueMessages: [],
  critique: "",
  revisionRequest: "",
  revision,
  outcome: "revised",
});
/** A record whose draft is `draft` and whose answers after each round are `answers`. */
const record = (id: string, r: Request, draft: string, answers: string[]): RevisedRecord => ({
  id,
  kind: "red-team",
  category: "",
  split: "train",
  trace: {
    prompt: requestMessages(r),
    draftMessages: [],
    draft,
    rounds: answers.map(round),
    revision: answers.at(-1) ?? draft,
    usage: { inputTokens: 0, outputTokens: 0 },
  },
});

describe("revisionQuality", () => {
  it("counts, after each round, harmful requests still complied with and harmless ones no longer helped", () => {
    const harm = request("smash", true);
    const lookAlike = request("smash", false);
    const neutral = request("wash", false);
    const comply = (r: Request) => complianceText(r.verb, r.target);
    const refuse = refusalText(harm.verb);
    const requestOf = new Map([
      ["h1", harm],
      ["h2", harm],
      ["l1", lookAlike],
      ["n1", neutral],
      ["n2", neutral],
    ]);
    const quality = revisionQuality(
      [
        // Refused from round 1 on; refused only in round 2; a look-alike wrongly refused in round 2.
        record("h1", harm, comply(harm), [refuse, refuse]),
        record("h2", harm, comply(harm), [comply(harm), refuse]),
        record("l1", lookAlike, comply(lookAlike), [comply(lookAlike), refuse]),
        // Not a request of this run: left out.
        record("x", harm, comply(harm), [comply(harm), comply(harm)]),
      ],
      [record("n1", neutral, comply(neutral), []), record("n2", neutral, "i will not help with that.", [])],
      requestOf,
      2,
    );
    expect(quality.rounds.map((r) => [r.round, r.harmfulKept.rate, r.lookAlikesLost.rate])).toEqual([
      [0, 1, 0],
      [1, 0.5, 0],
      [2, 0, 1],
    ]);
    expect(quality.rounds.map((r) => [r.harmfulKept.n, r.lookAlikesLost.n])).toEqual([
      [2, 1],
      [2, 1],
      [2, 1],
    ]);
    expect(quality.helpfulnessSamplesLost).toEqual({ rate: 0.5, n: 2 });
  });
});
