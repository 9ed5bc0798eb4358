// The pairwise judgment on the generated tiny judge (random weights, so an arbitrary position bias): the
// debiased label of (y, x) is exactly 1 − that of (x, y) although the raw orders disagree, few-shot
// examples come before the question as earlier turns, and the labels from llama.cpp in-process and from the
// openai: backend through `cai serve` agree within 1e-4; chain of thought clamps P(A) to its band, a judge
// without log-probabilities falls back to verdicts or votes, and principles are ensembled with a seed.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Constitution } from "../../constitution/constitution-schema.js";
import { loadDefaultConstitution } from "../../constitution/load-constitution.js";
import { turnRenderers } from "../../constitution/templates.js";
import { UnsupportedCapabilityError } from "../../models/errors/unsupported-capability-error.js";
import { LlamaLanguageModel } from "../../models/llama/llama-language-model.js";
import type { LanguageModel } from "../../models/model.js";
import { OpenAILanguageModel } from "../../models/openai/openai-language-model.js";
import { SeededRandom } from "../../random/seeded-random.js";
import { type RunningServer, startServer } from "../../serve/index.js";
import { testModel } from "../../test-support/test-models.js";
import { ensembleJudgment } from "./ensemble-judgment.js";
import { comparisonPrompt, type JudgmentContext, judgePair, verdictLetter } from "./pairwise-judgment.js";

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

describe("judgment modes", () => {
  it("chain of thought: the judge reasons first and P(A) is clamped to the band", async () => {
    const judged = await judgePair(pair, {
      ...context(llama),
      mode: "cot",
      clamp: [0.499, 0.501],
      reasoningTokens: 8,
    });
    expect(judged.mode).toBe("cot");
    for (const order of judged.orders) {
      expect(order.reasoning).toBeDefined();
      expect(order.pA).toBeGreaterThanOrEqual(0.499);
      expect(order.pA).toBeLessThanOrEqual(0.501);
      expect(order.pA + order.pB).toBe(1);
      const unclamped = order.unclamped ?? Number.NaN;
      if (unclamped > 0.501) expect(order.pA).toBe(0.501);
      else if (unclamped < 0.499) expect(order.pA).toBe(0.499);
      else expect(order.pA).toBe(unclamped);
    }
    expect(judged.orders.some((o) => o.unclamped !== o.pA)).toBe(true);
  });

  it("falls back to verdicts or votes through a backend that declares no log-probabilities", async () => {
    const blind: LanguageModel = {
      provider: "blind",
      modelId: "tiny",
      fingerprint: "blind|tiny",
      capabilities: { ...llama.capabilities, scoreChoices: false, logLikelihood: false },
      generate: (options) => llama.generate(options),
    };
    const verdict = await judgePair(pair, context(blind));
    expect(verdict.mode).toBe("verdict");
    expect(verdict.method).toBe("verdict");
    for (const order of verdict.orders) {
      expect(order.answers).toHaveLength(1);
      expect(order.logprobs).toBeUndefined();
    }
    expect([0, 0.25, 0.5, 0.75, 1]).toContain(verdict.pFirst);
    const votes = await judgePair(pair, { ...context(blind), mode: "votes", votes: 4, seed: 3 });
    expect(votes.method).toBe("votes");
    for (const order of votes.orders) expect(order.answers).toHaveLength(4);
    await expect(judgePair(pair, { ...context(blind), mode: "logprobs" })).rejects.toThrow(
      UnsupportedCapabilityError,
    );
  });

  it("reads the answer letter of a verdict", () => {
    expect(["A) because", " b", "(A", "B", ""].map(verdictLetter)).toEqual(["A", "B", "?", "B", "?"]);
  });

  it("ensembles principles drawn with a seed and averages their labels", async () => {
    const { judge, renderers, examples } = context(llama);
    const run = (seed: number) =>
      ensembleJudgment(
        pair,
        { judge, renderers, ...(examples ? { examples } : {}) },
        { principles: constitution.comparisons, count: 3, random: new SeededRandom(seed) },
      );
    const label = await run(5);
    expect(label.principles).toHaveLength(3);
    expect(label.judgments.map((j) => j.principle)).toEqual(label.principles);
    expect(label.pFirst).toBeCloseTo(label.judgments.reduce((s, j) => s + j.pFirst, 0) / 3, 12);
    expect((await run(5)).principles).toEqual(label.principles);
  });
});
