// `cai train sft` end to end through the real command line: a tiny model learns a fixed answer from four
// conversations, the GGUF and PEFT adapters are written, and llama.cpp with the adapter gives the learned
// answer a higher log-likelihood than the base model does.
import { mkdtemp, readdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { LlamaLanguageModel } from "../models/llama/llama-language-model.js";
import { runCli } from "../test-support/run-cli.js";
import { testFolder, testModel } from "../test-support/test-models.js";

const answer = "the sea is blue";
const questions = ["what colour is the sea?", "tell me about water", "hello", "a question"];

const cai = runCli;

/** Log-likelihood of the answer after the first question, with or without the adapter. */
async function answerLogprob(base: string, adapter?: string): Promise<number> {
  const model = await LlamaLanguageModel.load(base, {
    threads: 1,
    gpu: false,
    parallel: 1,
    ...(adapter ? { adapters: [{ path: adapter }] } : {}),
  });
  try {
    const result = await model.logLikelihood({
      prefix: { messages: [{ role: "user", content: questions[0] ?? "" }] },
      continuation: answer,
    });
    return result.logprob;
  } finally {
    await model.close();
  }
}

describe("cai train sft", () => {
  it("trains a LoRA adapter that makes the trained answer more likely", async () => {
    const base = await testModel("tiny", "F32");
    const dir = await mkdtemp(path.join(await testFolder(), "train-sft-"));
    const data = path.join(dir, "sft.jsonl");
    const rows = questions.map((q) => ({
      messages: [
        { role: "user", content: q },
        { role: "assistant", content: answer },
      ],
    }));
    await writeFile(data, rows.map((r) => `${JSON.stringify(r)}\n`).join(""));
    const out = path.join(dir, "out");
    const args = [
      "--base",
      base,
      "--data",
      data,
      "--out",
      out,
      "--steps",
      "20",
      "--lr",
      "1e-2",
      "--rank",
      "4",
    ];
    const run = await cai("train", "sft", ...args, "--batch-size", "2");
    expect(run.stderr).toContain("step 20/20");
    expect(run.code).toBe(0);
    const adapter = run.stdout.trim();
    expect(path.dirname(adapter)).toBe(out);
    expect(adapter).toMatch(/adapter-step000020-.*\.gguf$/);
    expect(await readdir(path.join(out, "peft"))).toEqual([
      "adapter_config.json",
      "adapter_model.safetensors",
    ]);
    expect((await readdir(path.join(out, "checkpoints"))).length).toBeGreaterThan(0);

    const before = await answerLogprob(base);
    const after = await answerLogprob(base, adapter);
    console.log(`train sft: log p(answer) ${before.toFixed(3)} → ${after.toFixed(3)}`);
    expect(after).toBeGreaterThan(before + 1);

    // A rerun into the same directory is refused without --resume; with it, it resumes at the last step
    // and writes the adapter under a new name.
    const refused = await cai("train", "sft", ...args, "--batch-size", "2");
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/holds a checkpoint of an earlier run.*--resume/);
    const again = await cai("train", "sft", ...args, "--batch-size", "2", "--resume");
    expect(again.code).toBe(0);
    expect(again.stderr).toContain("resumed from step 20");
    expect(again.stdout.trim()).not.toBe(adapter);
    // Other settings than the checkpoint's are refused, naming them.
    const changed = await cai("train", "sft", ...args, "--batch-size", "1", "--resume");
    expect(changed.code).toBe(1);
    expect(changed.stderr).toMatch(/batchSize: 2 there, 1 now/);
  });

  it("names the line of a malformed row and exits with code 2", async () => {
    const base = await testModel("tiny", "F32");
    const dir = await mkdtemp(path.join(await testFolder(), "train-sft-bad-"));
    const data = path.join(dir, "bad.jsonl");
    await writeFile(data, `${JSON.stringify({ messages: [{ role: "user", content: "hi" }] })}\n`);
    const run = await cai("train", "sft", "--base", base, "--data", data, "--out", path.join(dir, "out"));
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/bad\.jsonl:1.*assistant/);
  });
});

describe("cai train dpo", () => {
  it("trains on TRL-style preference pairs and reports the held-out margin", async () => {
    const base = await testModel("tiny", "F32");
    const dir = await mkdtemp(path.join(await testFolder(), "train-dpo-"));
    const data = path.join(dir, "prefs.jsonl");
    const rows = questions.map((q) => ({ prompt: q, chosen: answer, rejected: "no" }));
    await writeFile(data, rows.map((r) => `${JSON.stringify(r)}\n`).join(""));
    const run = await cai(
      "train",
      "dpo",
      ...["--base", base, "--data", data, "--eval-data", data, "--out", path.join(dir, "out")],
      ...["--steps", "4", "--lr", "1e-2", "--rank", "4", "--beta", "0.5", "--batch-size", "2"],
    );
    expect(run.stderr).toContain("step 4/4");
    expect(run.code).toBe(0);
    expect(run.stderr).toMatch(/4 pairs, loss 0\.69\d+ → .*held-out margin 0\.000 → \d/);
    expect(run.stdout.trim()).toMatch(/adapter-step000004-.*\.gguf$/);
  });
});

describe("cai train rm and cai models score", () => {
  it("trains a reward model that scores the preferred answers higher, usable as reward:DIR", async () => {
    const base = await testModel("tiny", "F32");
    const dir = await mkdtemp(path.join(await testFolder(), "train-rm-"));
    const data = path.join(dir, "prefs.jsonl");
    const rows = questions.map((q) => ({ prompt: q, chosen: answer, rejected: "no" }));
    await writeFile(data, rows.map((r) => `${JSON.stringify(r)}\n`).join(""));
    const run = await cai(
      "train",
      "rm",
      ...["--base", base, "--data", data, "--eval-data", data, "--out", path.join(dir, "out")],
      ...["--steps", "12", "--lr", "1e-2", "--rank", "4", "--batch-size", "2"],
    );
    expect(run.code).toBe(0);
    expect(run.stderr).toMatch(/held-out accuracy \d\.\d+ → 1\.000/);
    const rewardDir = run.stdout.trim();
    expect(path.basename(rewardDir)).toMatch(/^reward-step000012-/);

    const conversations = path.join(dir, "conversations.jsonl");
    const ask = (content: string) => ({
      messages: [
        { role: "user", content: "a new question" },
        { role: "assistant", content },
      ],
    });
    await writeFile(conversations, [ask(answer), ask("no")].map((r) => `${JSON.stringify(r)}\n`).join(""));
    const scored = await cai("models", "score", `reward:${rewardDir}`, "--data", conversations);
    expect(scored.code).toBe(0);
    const [good, bad] = scored.stdout
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line) as { line: number; score: number });
    expect(good?.line).toBe(1);
    expect(good?.score).toBeGreaterThan(bad?.score ?? Number.POSITIVE_INFINITY);

    const wrong = await cai("models", "check", `reward:${rewardDir}`);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toMatch(/reward model.*cai models score/);
  });
});
