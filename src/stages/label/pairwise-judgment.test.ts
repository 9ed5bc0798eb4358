// The pairwise judgment on the generated tiny judge (random weights, so an arbitrary position bias): the
// debiased label of (y, x) is exactly 1 − that of (x, y) although the raw orders disagree, few-shot
// examples come before the question as earlier turns, and the labels from llama.cpp in-process and from the
// openai: backend through `cai serve` agree within 1e-4.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Constitution } from "../../constitution/constitution-schema.js";
import { loadDefaultConstitution } from "../../constitution/load-constitution.js";
import { turnRenderers } from "../../constitution/templates.js";
import { LlamaLanguageModel } from "../../models/llama/llama-language-model.js";
import type { LanguageModel } from "../../models/model.js";
import { OpenAILanguageModel } from "../../models/openai/openai-language-model.js";
import { type RunningServer, startServer } from "../../serve/index.js";
import { testModel } from "../../test-support/test-models.js";
import { comparisonPrompt, type JudgmentContext, judgePair } from "./pairwise-judgment.js";

let llama: LlamaLanguageModel;
let server: RunningServer;
let constitution: Constitution;

beforeAll(async () => {
  llama = await LlamaLanguageModel.load(await testModel("tiny", "F32"), {
    threads: 1,
    gpu: false,
    parallel: 1,
    contextSize: 4096,
  });
  server = await startServer({ models: [{ name: "tiny", model: llama }], port: 0 });
  constitution = await loadDefaultConstitution();
});
afterAll(async () => {
  await server?.close();
  await llama?.close();
});

const pair = {
  conversation: [{ role: "user" as const, content: "How do I get into my neighbour's wifi?" }],
  first: "Ask your neighbour for the password, or get your own plan.",
  second: "Use a cracking tool to break the WPA key.",
};

function context(judge: LanguageModel, fewShot = 0): JudgmentContext {
  const principle = constitution.comparisons[0];
  if (!principle) throw new Error("the default constitution has comparison principles");
  return {
    judge,
    renderers: turnRenderers(constitution),
    principle,
    principles: constitution.comparisons,
    examples: constitution.examples.comparison.slice(0, fewShot),
  };
}

describe("judgePair", () => {
  it("gives (y, x) exactly 1 − the label of (x, y), although the tiny judge has a position bias", async () => {
    const xy = await judgePair(pair, context(llama));
    const yx = await judgePair({ ...pair, first: pair.second, second: pair.first }, context(llama));
    expect(yx.pFirst).toBe(1 - xy.pFirst);
    expect(xy.method).toBe("exact");
    const [forward, backward] = xy.orders;
    // Position bias: P(first better) read from each order alone disagrees.
    expect(Math.abs((forward?.pA ?? 0) - (backward?.pB ?? 0))).toBeGreaterThan(1e-3);
    expect(xy.pFirst).toBeCloseTo(((forward?.pA ?? 0) + (backward?.pB ?? 0)) / 2, 12);
    for (const order of xy.orders) expect((order.pA ?? 0) + (order.pB ?? 0)).toBeCloseTo(1, 12);
    // The swapped call reports the same raw numbers, relabelled.
    expect(yx.orders[0]).toEqual({ ...backward, shownFirst: "first" });
  });

  it("puts few-shot examples before the question as earlier turns", () => {
    const prompt = comparisonPrompt(context(llama, 2), pair.conversation, pair.first, pair.second);
    if (typeof prompt === "string") throw new Error("expected a chat prompt");
    expect(prompt.messages).toHaveLength(5);
    expect(prompt.messages[1]?.content).toMatch(/^The answer is: \([AB]\)$/);
    expect(prompt.messages[4]?.content).toContain("(A) Ask your neighbour");
    expect(prompt.assistantPrefix).toBe("The answer is: (");
  });

  it("labels the same in-process and through cai serve with the openai: backend (1e-4)", async () => {
    const remote = new OpenAILanguageModel("tiny", { baseURL: `${server.url}/v1`, apiKey: "none" });
    for (const fewShot of [0, 1]) {
      const local = await judgePair(pair, context(llama, fewShot));
      const viaHttp = await judgePair(pair, context(remote, fewShot));
      expect(viaHttp.method).toBe("exact");
      expect(Math.abs(local.pFirst - viaHttp.pFirst)).toBeLessThan(1e-4);
      local.orders.forEach((order, i) => {
        expect(Math.abs(order.pA - (viaHttp.orders[i]?.pA ?? Number.NaN))).toBeLessThan(1e-4);
      });
    }
  });
});
