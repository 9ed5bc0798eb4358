// How runs in a run directory begin and end, with real `cai` processes: a second process on the same
// --out is refused while the first works (which then finishes normally), a SIGKILLed run leaves no lock
// behind and its rerun says what it resumes, and Ctrl-C (a real SIGINT) says what was kept and how to
// resume — for revise, label, eval and train.
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { cliArgs } from "../test-support/cli-command.js";
import { runCli } from "../test-support/run-cli.js";
import { doneCount, killWhenDone } from "../test-support/run-records.js";
import { testAdapter, testFolder, testModel } from "../test-support/test-models.js";

const promptCount = 12;

let dir: string;
let model: string;
let promptsFile: string;
let responsesFile: string;
let sftFile: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(await testFolder(), "lifecycle-"));
  model = await testModel("tiny", "F32");
  const ids = Array.from({ length: promptCount }, (_, i) => `p-${String(i).padStart(2, "0")}`);
  promptsFile = path.join(dir, "prompts.jsonl");
  await writeFile(
    promptsFile,
    ids
      .map((id, i) =>
        JSON.stringify({ id, kind: "red-team", category: "c", split: "train", prompt: `Request ${i}?` }),
      )
      .join("\n"),
  );
  responsesFile = path.join(dir, "responses.jsonl");
  const responses = ids.map((id, i) => ({
    id,
    kind: "red-team",
    category: "c",
    split: "train",
    prompt: [{ role: "user", content: `Request ${i}?` }],
    responses: ["Here is how.", "I would rather not.", `Step ${i}: start.`].map((text, k) => ({
      model: `m${k}`,
      sample: 0,
      text,
      finishReason: "stop",
    })),
  }));
  await writeFile(responsesFile, responses.map((r) => `${JSON.stringify(r)}\n`).join(""));
  sftFile = path.join(dir, "sft.jsonl");
  const conversations = ["what colour is the sea?", "hello", "why?", "who?"].map((q, i) => ({
    messages: [
      { role: "user", content: q },
      { role: "assistant", content: `answer number ${i}` },
    ],
  }));
  await writeFile(sftFile, conversations.map((c) => `${JSON.stringify(c)}\n`).join(""));
});

const reviseArgs = (out: string) => [
  ...["revise", "--model", `llama:${model}?threads=1`, "--prompts", promptsFile, "--out", out],
  ...["--rounds", "1", "--max-tokens", "16", "--few-shot", "1", "--concurrency", "1", "--no-cache"],
];
const labelArgs = (out: string) => [
  ...["label", "--responses", responsesFile, "--judge", `llama:${model}?threads=1`, "--out", out],
  ...["--few-shot", "1", "--concurrency", "1", "--no-cache"],
];
const trainArgs = (out: string, steps: number) => [
  ...["train", "sft", "--base", model, "--data", sftFile, "--out", out, "--steps", String(steps)],
  ...["--rank", "4", "--lr", "1e-2", "--checkpoint-every", "100"],
];

/** A `cai` child process with its stderr collected. */
interface CliChild {
  child: ChildProcess;
  stderr(): string;
  exited: Promise<number | null>;
  /** Set once the child has exited. */
  code?: number | null;
}

const running: ChildProcess[] = [];
// A failed test must not leave a child behind (one may be paused).
afterEach(() => {
  for (const child of running.splice(0)) if (child.exitCode === null) child.kill("SIGKILL");
});

function startCli(args: readonly string[]): CliChild {
  const child = spawn(process.execPath, cliArgs(...args), {
    stdio: ["ignore", "ignore", "pipe"],
  });
  running.push(child);
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const run: CliChild = {
    child,
    stderr: () => stderr,
    exited: new Promise((resolve) =>
      child.once("exit", (code) => {
        run.code = code;
        resolve(code);
      }),
    ),
  };
  return run;
}

/** Waits until `run` gets to where `condition` holds; fails at once if it ends first. */
async function waitFor(run: CliChild, condition: () => boolean): Promise<void> {
  const deadline = Date.now() + 240_000;
  while (!condition()) {
    if (run.code !== undefined) throw new Error(`cai exited with ${run.code} first:\n${run.stderr()}`);
    if (Date.now() > deadline) throw new Error(`timed out; cai wrote:\n${run.stderr()}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/**
 * Ctrl-C at a known point: the child is paused once `ready` holds, sent SIGINT, and continued, so it
 * cannot finish the run between the check and the signal.
 */
async function interrupt(run: CliChild, ready: () => boolean): Promise<number | null> {
  await waitFor(run, ready);
  run.child.kill("SIGSTOP");
  run.child.kill("SIGINT");
  run.child.kill("SIGCONT");
  return run.exited;
}

const stepsPrinted = (stderr: string) => [...stderr.matchAll(/^step (\d+)\//gm)].length;

// Several `cai` processes per test, each loading llama.cpp: minutes on a busy two-core machine.
const slow = { timeout: 600_000 };

describe("one cai process per run directory", slow, () => {
  it("refuses a second revise on the same --out at once; the first finishes normally", async () => {
    const out = path.join(dir, "revise-twice");
    const first = startCli(reviseArgs(out));
    // Paused mid-run, the first holds the lock however long the second takes to start.
    await waitFor(first, () => doneCount(out) >= 1);
    first.child.kill("SIGSTOP");
    const second = await runCli(...reviseArgs(out));
    first.child.kill("SIGCONT");
    expect(second.code).toBe(1);
    expect(second.stderr).toMatch(
      new RegExp(
        `^cai: ${out} is in use by another cai process \\(pid ${first.child.pid}, started [0-9T:-]+Z\\); wait for it to finish or stop it\\n$`,
      ),
    );
    expect(await first.exited).toBe(0);
    expect(first.stderr()).toContain(`revise: ${promptCount}/${promptCount} done, 0 failed`);
    expect(existsSync(path.join(out, "cai.lock.json"))).toBe(false);
  });

  it("after a SIGKILL, the rerun takes the lock, says what it resumes, and finishes", async () => {
    const out = path.join(dir, "revise-killed");
    await killWhenDone(reviseArgs(out), out, 3);
    const before = doneCount(out);
    expect(before).toBeGreaterThanOrEqual(3);
    expect(before).toBeLessThan(promptCount);
    const rerun = await runCli(...reviseArgs(out));
    expect(rerun.code).toBe(0);
    expect(rerun.stderr).toContain(
      `revise: resuming ${out}: ${before}/${promptCount} prompts done before, ${promptCount - before} to do`,
    );
    expect(doneCount(out)).toBe(promptCount);
  });

  it("refuses a second train on the same --out", async () => {
    const out = path.join(dir, "train-twice");
    const first = startCli(trainArgs(out, 8));
    await waitFor(first, () => stepsPrinted(first.stderr()) >= 1);
    first.child.kill("SIGSTOP");
    const second = await runCli(...trainArgs(out, 8));
    first.child.kill("SIGCONT");
    expect(second.code).toBe(1);
    expect(second.stderr).toContain(`cai: ${out} is in use by another cai process (pid ${first.child.pid},`);
    expect(await first.exited).toBe(0);
    expect(first.stderr()).toContain("done at step 8");
  });
});

describe("Ctrl-C keeps what was done and says how to resume", slow, () => {
  it("cai label", async () => {
    const out = path.join(dir, "label-stopped");
    const pairs = promptCount * 3;
    const run = startCli(labelArgs(out));
    expect(await interrupt(run, () => doneCount(out) >= 2)).toBe(130);
    const kept = doneCount(out);
    expect(kept).toBeLessThan(pairs);
    expect(run.stderr()).toContain(
      `label: stopped: ${kept}/${pairs} pairs done; rerun the same command to resume`,
    );
    const rerun = await runCli(...labelArgs(out));
    expect(rerun.code).toBe(0);
    expect(rerun.stderr).toContain(
      `label: resuming ${out}: ${kept}/${pairs} pairs done before, ${pairs - kept} to do`,
    );
  });

  it("cai eval", async () => {
    const out = path.join(dir, "eval-stopped");
    const spec = (adapter?: string) => `llama:${model}${adapter ? `+${adapter}` : ""}?threads=1`;
    const args = [
      ...["eval", "--model", spec(), "--model", spec(await testAdapter(model, 7)), "--judge", spec()],
      ...["--out", out, "--limit", "3", "--max-tokens", "8", "--bootstrap", "20", "--concurrency", "1"],
      "--no-cache",
    ];
    const responses = path.join(out, "responses");
    const run = startCli(args);
    expect(await interrupt(run, () => doneCount(responses) >= 1)).toBe(130);
    const kept = doneCount(responses);
    expect(kept).toBeLessThan(6);
    expect(run.stderr()).toContain(
      `eval: stopped while sampling responses: ${kept}/6 prompts done; rerun the same command to resume`,
    );
    const rerun = await runCli(...args);
    expect(rerun.code).toBe(0);
    expect(rerun.stderr).toContain(
      `eval: responses: resuming ${responses}: ${kept}/6 prompts done before, ${6 - kept} to do`,
    );
  });

  it("cai train sft", async () => {
    const out = path.join(dir, "train-stopped");
    const run = startCli(trainArgs(out, 12));
    expect(await interrupt(run, () => stepsPrinted(run.stderr()) >= 2)).toBe(130);
    const step = stepsPrinted(run.stderr());
    expect(step).toBeLessThan(12);
    const checkpoint = path.join(
      out,
      "checkpoints",
      `checkpoint-${String(step).padStart(8, "0")}.safetensors`,
    );
    expect(run.stderr()).toContain(
      `train: stopped at step ${step}/12; checkpoint at ${checkpoint}; rerun the same command with --resume to continue`,
    );
    expect(existsSync(checkpoint)).toBe(true);
    const rerun = await runCli(...trainArgs(out, 12), "--resume");
    expect(rerun.code).toBe(0);
    expect(rerun.stderr).toContain(
      `train: resuming ${out}: ${step}/12 steps done before, ${12 - step} to do`,
    );
    expect(rerun.stderr).toContain("done at step 12");
  });
});
