// Kill `cai train sft` with SIGKILL mid-run, rerun it with --resume: the loss sequence and the trained
// adapter are exactly those of an uninterrupted run with the same seed (LoRA dropout on: its masks are
// seeded by the step, so they too repeat) — also when the newest checkpoint was damaged: it resumes from
// the one before.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, readdir, readFile, truncate, writeFile } from "node:fs/promises";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { cliArgs } from "../test-support/cli-command.js";
import { runCli } from "../test-support/run-cli.js";
import { testFolder, testModel } from "../test-support/test-models.js";
import { loadLatestCheckpoint } from "../train/loop/checkpoint.js";

const questions = ["what colour is the sea?", "tell me about water", "hello", "a question", "why?", "who?"];

function trainArgs(base: string, data: string, out: string): string[] {
  return [
    ...["train", "sft", "--base", base, "--data", data, "--out", out],
    ...["--steps", "12", "--lr", "1e-2", "--rank", "4", "--batch-size", "1", "--grad-accumulation", "2"],
    ...["--seed", "5"],
    ...["--checkpoint-every", "1", "--dropout", "0.1"],
  ];
}

/** Starts training and SIGKILLs it once its progress shows `step` done. Returns the last step it printed. */
async function killAfter(args: string[], step: number): Promise<number> {
  const child: ChildProcess = spawn(process.execPath, cliArgs(...args), {
    stdio: ["ignore", "ignore", "pipe"],
  });
  let printed = 0;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.stderr?.on("data", (chunk: Buffer) => {
    for (const match of chunk.toString().matchAll(/step (\d+)\//g)) printed = Number(match[1]);
    if (printed >= step) child.kill("SIGKILL");
  });
  await exited;
  return printed;
}

// Two or three training processes per test: allow for a busy two-core machine.
describe("cai train sft survives SIGKILL", { timeout: 300_000 }, () => {
  let base: string;
  let dir: string;
  let data: string;
  beforeAll(async () => {
    base = await testModel("tiny", "F32");
    dir = await mkdtemp(path.join(await testFolder(), "train-kill-"));
    data = path.join(dir, "sft.jsonl");
    const rows = questions.map((q, i) => ({
      messages: [
        { role: "user", content: q },
        { role: "assistant", content: `answer number ${i}` },
      ],
    }));
    await writeFile(data, rows.map((r) => `${JSON.stringify(r)}\n`).join(""));
    const whole = await runCli(...trainArgs(base, data, path.join(dir, "whole")));
    expect(whole.code).toBe(0);
  });

  /** Expects the run in `out` to have ended exactly as the uninterrupted one did. */
  async function expectSameAsWhole(out: string): Promise<void> {
    const [a, b] = await Promise.all([
      loadLatestCheckpoint(path.join(dir, "whole", "checkpoints")),
      loadLatestCheckpoint(path.join(out, "checkpoints")),
    ]);
    expect(b?.history.map((r) => r.loss)).toEqual(a?.history.map((r) => r.loss));
    expect(b?.history).toHaveLength(12);
    const peft = (root: string) => readFile(path.join(root, "peft", "adapter_model.safetensors"));
    expect(Buffer.compare(await peft(out), await peft(path.join(dir, "whole")))).toBe(0);
  }

  it("resumed after a kill, it gives the uninterrupted run's losses and adapter exactly", async () => {
    const out = path.join(dir, "killed");
    const printed = await killAfter(trainArgs(base, data, out), 4);
    expect(printed).toBeGreaterThanOrEqual(4);
    const interrupted = await loadLatestCheckpoint(path.join(out, "checkpoints"));
    expect(interrupted?.step).toBeGreaterThanOrEqual(3);
    expect(interrupted?.step).toBeLessThan(12);
    const resumed = await runCli(...trainArgs(base, data, out), "--resume");
    expect(resumed.code).toBe(0);
    expect(resumed.stderr).toContain(`resumed from step ${interrupted?.step}`);
    await expectSameAsWhole(out);
  });

  it("with its newest checkpoint damaged, it resumes from the one before, says so, and still ends the same", async () => {
    const out = path.join(dir, "damaged");
    expect(await killAfter(trainArgs(base, data, out), 5)).toBeGreaterThanOrEqual(5);
    const checkpoints = path.join(out, "checkpoints");
    const [previous, newest] = (await readdir(checkpoints)).filter((f) => f.endsWith(".safetensors")).sort();
    expect(newest).toBeDefined();
    const step = (file = "") => Number(/(\d+)\.safetensors$/.exec(file)?.[1]);
    expect(step(newest) - step(previous)).toBe(1); // the latest two are kept
    await truncate(path.join(checkpoints, newest ?? ""), 1000);

    const resumed = await runCli(...trainArgs(base, data, out), "--resume");
    expect(resumed.code).toBe(0);
    const warning = resumed.stderr.split("\n").find((line) => line.includes("resuming from the previous"));
    expect(warning).toMatch(/^warning: /);
    expect(warning).toContain(`${path.join(checkpoints, newest ?? "")} is not a valid safetensors file`);
    const used = `${path.join(checkpoints, previous ?? "")} (step ${step(previous)})`;
    expect(warning).toContain(`resuming from the previous checkpoint, ${used}`);
    expect(resumed.stderr).toContain(`resumed from step ${step(previous)}`);
    await expectSameAsWhole(out);
  });
});
