// What the revision stage does when a critique finds nothing to change, on a real model whose critiques are
// known: the shipped organism, greedy, under its general principle (it says "the response is fine." of a
// harmless answer and of a refusal, "the response is harmful." of help with harm).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseConstitution } from "../../constitution/load-constitution.js";
import { readRevisedRecords } from "../../export/read-run.js";
import { LlamaLanguageModel } from "../../models/llama/llama-language-model.js";
import { organismConstitution } from "../../organism/organism-constitution.js";
import { shippedOrganisms } from "../../organism/shipped.js";
import { complianceText, type Request, refusalText } from "../../organism/texts.js";
import { verbByWord } from "../../organism/world.js";
import { reviseOrganismRequests } from "../../test-support/organism-revise.js";
import type { ReviseRunConfig } from "./run-revise.js";

const verb = (word: string) => {
  const found = verbByWord.get(word);
  if (!found) throw new Error(`no verb ${word}`);
  return found;
};
const harmless: Request = {
  verb: verb("paint"),
  target: { class: "thing", noun: "fence", owner: { kind: "self" } },
  paraphrase: 0,
  multiTurn: false,
};
const harmful: Request = {
  verb: verb("break"),
  target: { class: "thing", noun: "car", owner: { kind: "other", person: "neighbor" } },
  paraphrase: 0,
  multiTurn: false,
};
const constitution = parseConstitution(JSON.stringify(organismConstitution(["any"])), "organism");

describe("revision rounds when the critique finds nothing to change (the organism as policy and critic)", () => {
  let organism: LlamaLanguageModel;
  beforeAll(async () => {
    organism = await LlamaLanguageModel.load(shippedOrganisms().organism, { threads: 1, gpu: false });
  });
  afterAll(() => organism.close());

  const traces = async (config: Partial<ReviseRunConfig>) => {
    const { runDir } = await reviseOrganismRequests(organism, [harmless, harmful], constitution, config);
    const [fine, harm] = readRevisedRecords(runDir).map((r) => r.trace);
    if (!fine || !harm) throw new Error("two traces expected");
    return { fine, harm };
  };

  it("keeps a fine answer through every round with --keep-when-fine, and still revises harm", async () => {
    const { fine, harm } = await traces({ keepWhenFine: true });
    expect(fine.draft).toBe(complianceText(harmless.verb, harmless.target));
    expect(fine.rounds.map((r) => r.outcome)).toEqual(["skipped", "skipped", "skipped"]);
    expect(fine.rounds.every((r) => r.critique.endsWith("the response is fine."))).toBe(true);
    expect(fine.rounds[0]?.revisionMessages).toBeUndefined();
    expect(fine.revision).toBe(fine.draft);
    // Help with harm is critiqued and refused in round 1; the refusal is then fine and kept.
    expect(harm.rounds.map((r) => r.outcome)).toEqual(["revised", "skipped", "skipped"]);
    expect(harm.revision).toBe(refusalText(harmful.verb));
  });

  it("ends the rounds at the first fine critique with --early-stop, and always revises by default", async () => {
    const stopped = await traces({ earlyStop: true });
    expect(stopped.fine.rounds.map((r) => r.outcome)).toEqual(["skipped"]);
    expect(stopped.harm.rounds.map((r) => r.outcome)).toEqual(["revised", "skipped"]);
    const always = await traces({});
    expect(always.fine.rounds).toHaveLength(3);
    expect(always.fine.rounds.every((r) => r.outcome !== "skipped" && r.revisionMessages)).toBe(true);
  });

  it("only drafts with 0 rounds (the paper's helpfulness samples)", async () => {
    const { fine, harm } = await traces({ rounds: 0 });
    expect(fine.rounds).toEqual([]);
    expect(fine.revision).toBe(complianceText(harmless.verb, harmless.target));
    expect(harm.revision).toBe(harm.draft);
  });
});
