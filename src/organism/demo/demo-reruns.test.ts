// `cai demo` prints the same numbers on every run, at any concurrency and after a crash: on the smallest
// demo (every phase once), one run with two training jobs at once, and one with one job at a time that is
// SIGKILLed while its preference models train (in child processes) and then rerun to the end. Then
// `--ablations` over the finished demo runs only what it adds, and the RL ablations reach the report.
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { cliArgs } from "../../test-support/cli-command.js";
import { runCli } from "../../test-support/run-cli.js";
import type { DemoSummary } from "./run-demo.js";

/** Starts `cai ...args`, waits until `file` exists, SIGKILLs it; resolves with whether it got that far. */
async function killWhenExists(args: readonly string[], file: string): Promise<boolean> {
  const child: ChildProcess = spawn(process.execPath, cliArgs(...args), { stdio: "ignore" });
  let exited = false;
  const exit = new Promise<void>((resolve) =>
    child.once("exit", () => {
      exited = true;
      resolve();
    }),
  );
  while (!existsSync(file) && !exited) await new Promise((r) => setTimeout(r, 20));
  const reached = !exited;
  child.kill("SIGKILL");
  await exit;
  return reached;
}

describe("cai demo --smoke", () => {
  it("prints the same numbers with one or two jobs at once, and after a SIGKILL and a rerun; adds ablations", {
    timeout: 600_000,
  }, async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "cai-demo-reruns-"));
    const two = path.join(dir, "two");
    const one = path.join(dir, "one");
    const oneArgs = ["demo", "--smoke", "--jobs", "1", "--out", one];
    const [straight, killed] = await Promise.all([
      runCli("demo", "--smoke", "--jobs", "2", "--out", two),
      killWhenExists(oneArgs, path.join(one, "phases", "rl: preference data.json")),
    ]);
    expect(straight.code, straight.stderr).toBe(0);
    expect(killed).toBe(true);
    const resumed = await runCli(...oneArgs);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stdout).toContain("Preference models, held-out accuracy");
    expect(resumed.stdout).toBe(straight.stdout);

    const ablated = await runCli("demo", "--smoke", "--ablations", "--out", two);
    expect(ablated.code, ablated.stderr).toBe(0);
    expect(ablated.stderr).not.toMatch(/demo: revise…/);
    const summary = JSON.parse(await readFile(path.join(two, "summary.json"), "utf8")) as DemoSummary;
    expect(summary.rlAblations?.models.map((m) => m.name)).toEqual([
      "rl-cai-hard-labels@2",
      "rl-cai-kl0@2",
      "d-rlaif-2-principles@2",
    ]);
    expect(summary.rlAblations?.preferenceModels[0]?.heldAccuracy).toBeDefined();
    // Both RL-CAI runs at each evaluation, from √KL 0 at the start.
    expect(summary.rlAblations?.overoptimisation.map((p) => [p.run, p.step])).toEqual([
      ["rl-cai", 0],
      ["rl-cai", 2],
      ["rl-cai-kl0", 0],
      ["rl-cai-kl0", 2],
    ]);
    const html = await readFile(path.join(two, "report", "report.html"), "utf8");
    expect(html).toContain("RL ablations (final checkpoints)");
    expect(html).toContain("Reward over-optimisation");
  });
});
