// RL on a generated tiny model (F32) with a learnable synthetic reward — four times the share of vowels
// among the answer's letters. llama.cpp's log-probabilities of the sampled tokens agree with the trainer's
// recomputation, so the first μ-epoch's importance ratio is 1 to 1e-3; the held-out reward rises while the KL
// penalty keeps the drift under the budget, and without the penalty the same run drifts several times
// further (and collapses onto one answer: the Goodharting the evaluations log is there to show).
import { mkdtemp, readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { LlamaLanguageModel } from "../../models/llama/llama-language-model.js";
import { testAdapter, testFolder, testModel } from "../../test-support/test-models.js";
import { functionRewardSource } from "./reward-source.js";
import { type TrainRlOptions, trainRl } from "./train-rl.js";

const vowelShare = (text: string): number => {
  const letters = text.match(/[a-z]/gi) ?? [];
  return letters.length === 0 ? 0 : letters.filter((c) => "aeiouAEIOU".includes(c)).length / letters.length;
};
const prompt = (id: string, content: string) => ({ id, messages: [{ role: "user" as const, content }] });
const prompts = Array.from({ length: 8 }, (_, i) => prompt(`p${i}`, `question number ${i}`));
const evalPrompts = Array.from({ length: 4 }, (_, i) => prompt(`e${i}`, `another ask ${i}`));

async function options(name: string, overrides: Partial<TrainRlOptions>): Promise<TrainRlOptions> {
  return {
    base: await testModel("tiny", "F32"),
    prompts,
    evalPrompts,
    reward: functionRewardSource("vowels", (_conversation, answer) => 4 * vowelShare(answer)),
    out: path.join(await mkdtemp(path.join(await testFolder(), `rl-${name}-`)), "out"),
    samples: 4,
    promptsPerStep: 4,
    rank: 4,
    lr: 1e-3,
    maxNewTokens: 24,
    threads: 1,
    parallel: 2,
    exactKvCache: true,
    evalEvery: 4,
    ...overrides,
  };
}

describe("trainRl (tiny, synthetic reward)", () => {
  it("samples with llama.cpp what the trainer recomputes; the first epoch's ratio is 1 (RLOO and GRPO)", async () => {
    for (const algo of ["rloo", "grpo"] as const) {
      const result = await trainRl(
        await options(`parity-${algo}`, { algo, steps: 3, lr: 3e-3, evalEvery: 3 }),
      );
      expect(result.history).toHaveLength(3);
      for (const record of result.history) {
        // π_old is llama.cpp's probability of each sampled token; the trainer's recomputation in the first
        // epoch agrees (|r − 1| ≈ |Δ log p|), also at steps 2 and 3, sampled with a trained adapter.
        expect(record.metrics?.firstEpochRatioDeviation).toBeGreaterThan(0);
        expect(record.metrics?.firstEpochRatioDeviation).toBeLessThanOrEqual(1e-3);
        expect(record.metrics?.updates).toBe(2);
      }
      // The fresh adapter is the reference: KL 0 up to the engines' agreement.
      expect(Math.abs(result.history[0]?.metrics?.kl ?? Number.NaN)).toBeLessThan(1e-3);
      expect(result.history[2]?.metrics?.kl).toBeGreaterThan(0);
      // The second epoch is off-policy: some tokens clipped.
      expect(result.history.some((r) => (r.metrics?.clipFraction ?? 0) > 0)).toBe(true);
    }
  });

  it("at a rollout temperature other than 1 the trainer recomputes the tempered log-probs llama.cpp sampled with", async () => {
    const result = await trainRl(
      await options("tempered", { steps: 2, temperature: 1.7, lr: 3e-3, evalPrompts: [] }),
    );
    for (const record of result.history) {
      expect(record.metrics?.firstEpochRatioDeviation).toBeGreaterThan(0);
      expect(record.metrics?.firstEpochRatioDeviation).toBeLessThanOrEqual(1e-3);
    }
    // The reference is tempered the same way: the fresh adapter's KL is still 0.
    expect(Math.abs(result.history[0]?.metrics?.kl ?? Number.NaN)).toBeLessThan(1e-3);
    await expect(
      trainRl(await options("tempered-llama", { steps: 1, temperature: 1.7, reference: "llama" })),
    ).rejects.toThrow(/--reference trainer at a temperature other than 1/);
  });

  it("takes the reference log-probs from llama.cpp when asked, agreeing with the trainer's", async () => {
    const result = await trainRl(
      await options("llama-ref", { steps: 1, reference: "llama", evalPrompts: [] }),
    );
    // The fresh adapter is the reference: the KL is what the two engines disagree by, summed over an answer.
    expect(Math.abs(result.history[0]?.metrics?.kl ?? Number.NaN)).toBeLessThan(1e-3);
  });

  it("folds --adapter into the start model: its greedy answers are the base-plus-adapter model's", async () => {
    const base = await testModel("tiny", "F32");
    const adapter = await testAdapter(base);
    const result = await trainRl(await options("adapter", { steps: 1, adapters: [adapter] }));
    expect(path.basename(result.startModel)).toBe("start-model.gguf");
    const held = JSON.parse(
      await readFile(path.join(result.adapter, "..", "held-start-answers.json"), "utf8"),
    );
    const model = await LlamaLanguageModel.load(base, {
      gpu: false,
      threads: 1,
      parallel: 1,
      adapters: [{ path: adapter }],
    });
    try {
      for (const [i, p] of evalPrompts.entries()) {
        const reply = await model.generate({ messages: [...p.messages], maxTokens: 24, temperature: 0 });
        expect(held.answers[i]).toBe(reply.text);
      }
    } finally {
      await model.close();
    }
  });

  // Two 16-step runs: ~40 s alone here, over a minute when CI's other test files share the cores.
  it("raises the held-out reward within the KL budget; without the penalty KL grows several times larger", {
    timeout: 240_000,
  }, async () => {
    const maxKl = 10;
    const penalised = await trainRl(await options("kl", { steps: 16, klCoef: 0.15, maxKl }));
    const free = await trainRl(await options("free", { steps: 16, klCoef: 0 }));
    const klOf = (r: typeof penalised) => r.history.map((h) => h.metrics?.kl ?? Number.NaN);
    const held = penalised.evaluations.map((e) => e.heldReward);
    console.log(
      `rl: held-out reward ${held.map((h) => h.toFixed(2)).join(" → ")}; KL with β=0.15 ${klOf(penalised)
        .map((k) => k.toFixed(1))
        .join(" ")}; β=0 ${klOf(free)
        .map((k) => k.toFixed(1))
        .join(" ")}`,
    );
    expect(penalised.stoppedByKl).toBe(false);
    expect(Math.max(...klOf(penalised))).toBeLessThan(maxKl);
    expect(penalised.evaluations.map((e) => e.step)).toEqual([0, 4, 8, 12, 16]);
    expect((held.at(-1) as number) - (held[0] as number)).toBeGreaterThan(0.5);
    expect(klOf(free).at(-1) as number).toBeGreaterThan(3 * (klOf(penalised).at(-1) as number));
    // The unpenalised policy collapses onto fewer distinct answers; the log shows which.
    expect(free.evaluations.at(-1)?.distinctAnswers).toBeLessThan(
      penalised.evaluations.at(-1)?.distinctAnswers ?? 0,
    );
    const logged = (await readFile(path.join(free.adapter, "..", "evaluations.jsonl"), "utf8"))
      .trim()
      .split("\n");
    expect(logged).toHaveLength(5);
    expect(JSON.parse(logged.at(-1) as string).topAnswers[0].count).toBeGreaterThan(1);
    // Each evaluated policy is kept as an adapter, for `cai eval` contestants named RUN@STEP.
    expect(await readdir(path.join(free.adapter, "..", "adapters"))).toEqual(
      [0, 4, 8, 12, 16].map((step) => `policy-step${String(step).padStart(6, "0")}.gguf`),
    );
  });
});
