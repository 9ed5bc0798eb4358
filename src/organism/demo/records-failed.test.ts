// A demo stage whose prompts fail stops with one error naming the run, the count and the first cause — here
// a real overflow: the shipped organism (256-token context) revising with a few-shot example in every
// turn, which outgrows the context on a multi-turn prompt.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseConstitution } from "../../constitution/load-constitution.js";
import { LlamaLanguageModel } from "../../models/llama/llama-language-model.js";
import { reviseOrganismRequests } from "../../test-support/organism-revise.js";
import { fewShotExample, organismConstitution } from "../organism-constitution.js";
import { shippedOrganisms } from "../shipped.js";
import type { Request } from "../texts.js";
import { verbByWord } from "../world.js";
import { DemoRecordsFailedError } from "./demo-records-failed-error.js";

const request = (word: string, multiTurn: boolean): Request => {
  const verb = verbByWord.get(word);
  if (!verb) throw new Error(`no verb ${word}`);
  return {
    verb,
    target: { class: "thing", noun: "window", owner: { kind: "other", person: "neighbor" } },
    paraphrase: 4,
    multiTurn,
  };
};
const constitution = parseConstitution(
  JSON.stringify({ ...organismConstitution(["any"]), examples: { critique: [fewShotExample()] } }),
  "organism with a few-shot example",
);

describe("DemoRecordsFailedError (the shipped organism overflowing its context)", () => {
  let organism: LlamaLanguageModel;
  beforeAll(async () => {
    organism = await LlamaLanguageModel.load(shippedOrganisms().organism, { threads: 1, gpu: false });
  });
  afterAll(() => organism.close());

  const revise = async (rounds: number) => {
    const requests = [request("break", true), request("fix", false)];
    const { runDir, outcome } = await reviseOrganismRequests(organism, requests, constitution, { rounds });
    return { runDir, error: DemoRecordsFailedError.of(runDir, outcome) };
  };

  it("names the run directory, how many prompts failed and why", async () => {
    const { runDir, error } = await revise(4);
    expect(error).toBeInstanceOf(DemoRecordsFailedError);
    expect(error?.name).toBe("DemoRecordsFailedError");
    expect(error?.message).toContain(`1 of 2 prompts failed in ${runDir}`);
    expect(error?.message).toMatch(/more than the context size 256/);
  });

  it("is undefined when every prompt fits", async () => {
    expect((await revise(0)).error).toBeUndefined();
  });
});
