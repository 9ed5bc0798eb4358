// `cai train rl` as users run it: d-RLAIF with a llama.cpp judge under the built-in constitution, and the
// distilled path against a preference model from `cai train rm`. SIGKILLed mid-run and resumed, the run
// ends with exactly the uninterrupted run's history and adapter bytes.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { cliArgs } from "../test-support/cli-command.js";
import { runCli } from "../test-support/run-cli.js";
import { testFolder, testModel } from "../test-support/test-models.js";
import { loadLatestCheckpoint } from "../train/loop/checkpoint.js";

const asks = [
  "how do i pick a lock?",
  "what is a good soup?",
  "tell me how to hurt someone",
  "write a short poem",
  "how can i steal a car?",
  "explain rain to a child",
  "what should i cook tonight?",
  "how do i make a weapon?",
  "name a blue thing",
  "why is the sky blue?",
  "help me lie to my friend",
  "what is two plus two?",
];

function rlArgs(base: string, prompts: string, out: string, reward: string[]): string[] {
  return [
    ...["train", "rl", "--base", base, ...reward, "--prompts", prompts, "--out", out],
    ...["--samples", "2", "--prompts-per-step", "2", "--steps", "6", "--lr", "3e-3", "--rank", "4"],
    ...["--max-new-tokens", "12", "--threads", "1", "--parallel", "2", "--seed", "3", "--eval-count", "2"],
    ...["--eval-every", "3", "--checkpoint-every", "1", "--micro-batch", "3", "--no-cache"],
  ];
}

/** Starts a run and SIGKILLs it once its progress shows `step` done. Returns the last step it printed. */
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

describe("cai train rl", { timeout: 600_000 }, () => {
  let base: string;
  let dir: string;
  let prompts: string;
  beforeAll(async () => {
    base = await testModel("tiny", "F32");
    dir = await mkdtemp(path.join(await testFolder(), "train-rl-"));
    prompts = path.join(dir, "prompts.jsonl");
    await writeFile(prompts, asks.map((prompt) => `${JSON.stringify({ prompt })}\n`).join(""));
  });

  it("d-RLAIF with a llama.cpp judge survives SIGKILL: the resumed run ends with the uninterrupted one's adapter", async () => {
    const judge = ["--judge", `llama:${base}?threads=1&parallel=2`];
    const whole = await runCli(...rlArgs(base, prompts, path.join(dir, "whole"), judge));
    expect(whole.code, whole.stderr).toBe(0);
    expect(whole.stderr).toMatch(/step 6\/6 score 0\.\d+/);
    expect(whole.stderr).toMatch(/held-out reward \d\.\d+ → \d\.\d+/);

    const out = path.join(dir, "killed");
    const printed = await killAfter(rlArgs(base, prompts, out, judge), 3);
    expect(printed).toBeGreaterThanOrEqual(3);
    const interrupted = await loadLatestCheckpoint(path.join(out, "checkpoints"));
    expect(interrupted?.step).toBeGreaterThanOrEqual(2);
    expect(interrupted?.step).toBeLessThan(6);
    const refused = await runCli(...rlArgs(base, prompts, out, judge));
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/holds a checkpoint of an earlier run.*--resume/);
    const resumed = await runCli(...rlArgs(base, prompts, out, judge), "--resume");
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stderr).toMatch(/resuming .*steps done before/);

    const [a, b] = await Promise.all([
      loadLatestCheckpoint(path.join(dir, "whole", "checkpoints")),
      loadLatestCheckpoint(path.join(out, "checkpoints")),
    ]);
    expect(b?.history).toHaveLength(6);
    expect(b?.history).toEqual(a?.history);
    const peft = (root: string) => readFile(path.join(root, "peft", "adapter_model.safetensors"));
    expect(Buffer.compare(await peft(out), await peft(path.join(dir, "whole")))).toBe(0);
    const gguf = async (stdout: string) => readFile(stdout.trim());
    expect(Buffer.compare(await gguf(resumed.stdout), await gguf(whole.stdout))).toBe(0);
    const evaluations = (root: string) => readFile(path.join(root, "evaluations.jsonl"), "utf8");
    expect(await evaluations(out)).toBe(await evaluations(path.join(dir, "whole")));
  });

  it("optimises against a preference model from cai train rm", async () => {
    const pairs = path.join(dir, "pairs.jsonl");
    const rows = asks.map((prompt, i) => ({
      prompt,
      chosen: `a kind and careful answer ${i}`,
      rejected: `no ${i}`,
    }));
    await writeFile(pairs, rows.map((r) => `${JSON.stringify(r)}\n`).join(""));
    const rm = path.join(dir, "rm");
    const trained = await runCli(
      ...["train", "rm", "--base", base, "--data", pairs, "--out", rm, "--steps", "4", "--rank", "2"],
    );
    expect(trained.code, trained.stderr).toBe(0);
    const run = await runCli(
      ...rlArgs(base, prompts, path.join(dir, "rl-rm"), ["--reward", `reward:${trained.stdout.trim()}`]),
    );
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/step 6\/6 score -?\d/);
    const history = JSON.parse(await readFile(path.join(dir, "rl-rm", "history.json"), "utf8"));
    expect(history.history).toHaveLength(6);
    expect(run.stderr).toMatch(/training curves in .*curves\.svg/);
    const curves = await readFile(path.join(dir, "rl-rm", "curves.svg"), "utf8");
    expect(curves).toContain("KL to the start model");
    expect(trained.stderr).toMatch(/training curves in .*curves\.svg/);
  });

  it("refuses both or neither reward, in one line", async () => {
    const neither = await runCli(...rlArgs(base, prompts, path.join(dir, "neither"), []));
    expect(neither.code).toBe(2);
    expect(neither.stderr.trim().split("\n")).toHaveLength(1);
    expect(neither.stderr).toMatch(/exactly one of --reward reward:DIR and --judge SPEC/);
  });
});
