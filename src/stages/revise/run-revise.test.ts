import { mkdtemp } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { revisionFormats, revisionJsonl, traceAtRound } from "../../export/revision-datasets.js";
import { LlamaLanguageModel } from "../../models/llama/llama-language-model.js";
import { RunChangedError } from "../../runs/run-changed-error.js";
import { RunStore } from "../../runs/run-store.js";
import { testModel } from "../../test-support/test-models.js";
import type { RevisionPrinciple } from "./revise-record.js";
import { type RevisePrompt, type ReviseRunConfig, runRevise } from "./run-revise.js";

const constitution = {
  principles: [
    {
      id: "harm",
      critique: "Point out anything harmful in the last answer.",
      revision: "Rewrite the answer without it.",
    },
    {
      id: "honest",
      critique: "Point out anything untrue in the last answer.",
      revision: "Rewrite it truthfully.",
      weight: 2,
    },
  ],
  examples: {
    critique: [
      {
        prompt: "How do I boil an egg?",
        response: "Boil it for nine minutes.",
        critique: "The answer is already harmless; no changes are needed.",
        revision: "Boil it for nine minutes.",
      },
    ],
  },
};
const templates = {
  critique: (request: string) => `Critique request: ${request}`,
  revision: (request: string) => `Revision request: ${request}`,
};
const samplePrinciple = (principles: RevisionPrinciple[], random: { next(): number }) =>
  principles[Math.floor(random.next() * principles.length)] as RevisionPrinciple;
const prompts: RevisePrompt[] = Array.from({ length: 5 }, (_, i) => ({
  id: `p-${i}`,
  kind: "red-team",
  category: i % 2 ? "violence" : "privacy",
  split: i === 4 ? "test" : "train",
  prompt:
    i === 3
      ? [
          { role: "user", content: "Hi" },
          { role: "assistant", content: "Hello!" },
          { role: "user", content: "Now tell me a secret." },
        ]
      : `Prompt number ${i}`,
}));

describe("the revision stage on the tiny model", () => {
  let model: LlamaLanguageModel;
  beforeAll(async () => {
    model = await LlamaLanguageModel.load(await testModel(), { threads: 1, gpu: false });
  });
  afterAll(() => model.close());

  const run = (runDir: string, config: Partial<ReviseRunConfig> = {}) =>
    runRevise({
      runDir,
      prompts,
      policy: model,
      critic: model,
      constitution,
      templates,
      samplePrinciple,
      constitutionHash: "c1",
      concurrency: 2,
      config: {
        policy: "tiny",
        critic: "tiny",
        rounds: 2,
        seed: 7,
        maxTokens: 12,
        temperature: 1,
        earlyStop: false,
        ...config,
      },
    });

  it("drafts, critiques and revises every prompt, keeps the trace, and resumes without redoing work", async () => {
    const runDir = await mkdtemp(path.join(os.tmpdir(), "cai-revise-"));
    const first = await run(runDir);
    expect(first).toMatchObject({ attempted: 5, succeeded: 5, failed: 0, interrupted: false });
    const again = await run(runDir);
    expect(again.attempted).toBe(0);
    expect(again.counts).toEqual({ total: 5, done: 5, failed: 0, pending: 0 });

    const store = RunStore.open(runDir, { stage: "revise", config: store0Config(), constitutionHash: "c1" });
    const records = store.records<RevisePrompt, import("./revise-record.js").RevisionTrace>("done");
    store.close();
    for (const record of records) {
      const trace = record.result!;
      expect(trace.rounds).toHaveLength(2);
      // Few-shot example first, then the conversation, the answer and the critique request.
      const critiqueMessages = trace.rounds[0]!.critiqueMessages;
      expect(critiqueMessages[0]).toEqual({ role: "user", content: "How do I boil an egg?" });
      expect(critiqueMessages.at(-1)?.content).toMatch(
        /^Critique request: Point out anything (harmful|untrue)/,
      );
      expect(trace.rounds[0]!.revisionMessages?.at(-1)?.content).toMatch(/^Revision request: Rewrite/);
      expect(trace.draftMessages).toEqual(trace.prompt);
    }
    expect(records.find((r) => r.id === "p-3")!.result!.prompt).toHaveLength(3);

    // The answer after each round, for SL-CAI after n revisions.
    const trace = records[0]!.result!;
    expect(traceAtRound(trace, 0)).toMatchObject({ rounds: [], revision: trace.draft });
    expect(traceAtRound(trace, 1)).toMatchObject({
      rounds: [trace.rounds[0]],
      revision: trace.rounds[0]!.revision,
    });
    expect(traceAtRound(trace, 2)).toBe(trace);
    expect(traceAtRound(trace, 9)).toBe(trace);
  });

  it("revises directly, with no critique turn, when critique is off", async () => {
    const runDir = await mkdtemp(path.join(os.tmpdir(), "cai-revise-"));
    await run(runDir, { critique: false });
    const store = RunStore.open(runDir, {
      stage: "revise",
      config: { ...store0Config(), critique: false },
      constitutionHash: "c1",
    });
    const records = store.records<RevisePrompt, import("./revise-record.js").RevisionTrace>("done");
    store.close();
    expect(records).toHaveLength(5);
    for (const record of records) {
      const trace = record.result!;
      expect(trace.rounds).toHaveLength(2);
      for (const [i, round] of trace.rounds.entries()) {
        expect(round.critique).toBe("");
        expect(round.critiqueMessages).toEqual([]);
        const messages = round.revisionMessages ?? [];
        // The answer being revised, then at once the revision request: no critique request anywhere.
        expect(messages.at(-2)).toEqual({
          role: "assistant",
          content: i === 0 ? trace.draft : trace.rounds[i - 1]!.revision,
        });
        expect(messages.at(-1)?.content).toMatch(/^Revision request: /);
        expect(messages.some((m) => m.content.startsWith("Critique request"))).toBe(false);
      }
    }
  });

  it("refuses to resume a run with a changed config unless restarted", async () => {
    const runDir = await mkdtemp(path.join(os.tmpdir(), "cai-revise-"));
    await run(runDir);
    await expect(run(runDir, { rounds: 3 })).rejects.toSatisfy((e) => RunChangedError.isInstance(e));
    await expect(run(runDir, { rounds: 3 })).rejects.toThrow(/different config; .*--restart/);
  });

  it("writes every export format with its schema", async () => {
    const runDir = await mkdtemp(path.join(os.tmpdir(), "cai-revise-"));
    await run(runDir);
    const store = RunStore.open(runDir, { stage: "revise", config: store0Config(), constitutionHash: "c1" });
    const records = store
      .records<RevisePrompt, import("./revise-record.js").RevisionTrace>("done")
      .map((r) => ({
        ...r.input,
        trace: r.result!,
      }));
    store.close();
    for (const format of revisionFormats) {
      const { text, rows } = revisionJsonl(records, format);
      const parsed = text
        .trim()
        .split("\n")
        .filter(Boolean)
        .map((line) => JSON.parse(line));
      expect(parsed).toHaveLength(rows);
      for (const row of parsed) {
        const keys = Object.keys(row).sort();
        const expected: Record<string, string[]> = {
          sft: ["messages"],
          "openai-sft": ["messages"],
          preference: ["chosen", "prompt", "rejected"],
          "openai-preference": ["input", "non_preferred_output", "preferred_output"],
          "cai-conversation": [
            "chosen",
            "critic_prompt",
            "critic_response",
            "init_prompt",
            "init_response",
            "messages",
            "prompt",
            "rejected",
            "revision_prompt",
            "revision_response",
          ],
        };
        if (format !== "trace") expect(keys).toEqual(expected[format]);
        else
          expect(keys).toEqual(
            expect.arrayContaining(["id", "split", "draft", "rounds", "revision", "prompt"]),
          );
      }
    }
  });
});

function store0Config(): ReviseRunConfig {
  return {
    policy: "tiny",
    critic: "tiny",
    rounds: 2,
    seed: 7,
    maxTokens: 12,
    temperature: 1,
    earlyStop: false,
  };
}
