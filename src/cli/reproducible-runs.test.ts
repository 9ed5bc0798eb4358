// The stages that call models give the same output files, byte for byte, whether a run goes through
// uninterrupted at concurrency 1, uninterrupted at concurrency 4, or is SIGKILLed three times at
// concurrency 3 and rerun to the end: revise (its exported trace), respond (responses.jsonl), label
// (preferences.jsonl) and eval (the report's data). Each run is the real `cai` in a child process.
import { execFile } from "node:child_process";
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";
import { beforeAll, describe, expect, it } from "vitest";
import { cliArgs } from "../test-support/cli-command.js";
import { doneCount, killWhenDone } from "../test-support/run-records.js";
import { testAdapter, testFolder, testModel } from "../test-support/test-models.js";

const cai = (args: readonly string[]) =>
  promisify(execFile)(process.execPath, cliArgs(...args), {
    env: { ...process.env, CAI_DEBUG: "" },
  });

/** A stage's command, where its progress is stored, and the file that must not change. */
interface StageCase {
  stage: string;
  args: (out: string, concurrency: number) => string[];
  /** The kills: each waits until the run directory `dir(out)` holds `done` finished records. */
  kills: Array<{ dir: (out: string) => string; done: number }>;
  /** The run's output, as compared. */
  output: (out: string) => Promise<string>;
}

let dir: string;
const cases: StageCase[] = [];

beforeAll(async () => {
  dir = await mkdtemp(path.join(await testFolder(), "reproducible-"));
  const base = await testModel("tiny", "F32");
  const spec = (adapter?: string) => `llama:${base}${adapter ? `+${adapter}` : ""}?threads=1`;
  const adapted = spec(await testAdapter(base, 7));
  const prompts = path.join(dir, "prompts.jsonl");
  const requests = Array.from({ length: 12 }, (_, i) => ({
    id: `p-${String(i).padStart(2, "0")}`,
    kind: i % 2 ? "helpful" : "red-team",
    category: `c${i % 3}`,
    split: i % 4 === 3 ? "test" : "train",
    prompt: `Request number ${i}: how do I do thing ${i}?`,
  }));
  await writeFile(prompts, requests.map((r) => `${JSON.stringify(r)}\n`).join(""));
  const responses = path.join(dir, "responses.jsonl");
  const rows = requests.map(({ prompt, ...request }) => ({
    ...request,
    prompt: [{ role: "user", content: prompt }],
    responses: ["Here is how.", "I would rather not.", `Step ${request.id}: start.`].map((text, k) => ({
      model: `m${k}`,
      sample: 0,
      text,
      finishReason: "stop",
    })),
  }));
  await writeFile(responses, rows.map((r) => `${JSON.stringify(r)}\n`).join(""));
  const common = (out: string, concurrency: number) => [
    ...["--out", out, "--seed", "5", "--concurrency", String(concurrency), "--no-cache"],
  ];
  cases.push(
    {
      stage: "revise",
      args: (out, c) => [
        ...["revise", "--model", spec(), "--prompts", prompts, "--split", "all"],
        ...["--rounds", "2", "--max-tokens", "48", "--few-shot", "1", ...common(out, c)],
      ],
      kills: [2, 5, 8].map((done) => ({ dir: (out) => out, done })),
      output: async (out) => {
        await cai(["export", out, "--out", `${out}-export`, "--format", "trace"]);
        const split = (name: string) => readFile(path.join(`${out}-export`, name), "utf8").catch(() => "");
        return (await split("trace.train.jsonl")) + (await split("trace.test.jsonl"));
      },
    },
    {
      stage: "respond",
      args: (out, c) => [
        ...["respond", "--model", spec(), "--model", adapted, "--prompts", prompts, "--split", "all"],
        ...["--samples", "2", "--max-tokens", "64", ...common(out, c)],
      ],
      kills: [2, 5, 8].map((done) => ({ dir: (out) => out, done })),
      output: (out) => readFile(path.join(out, "responses.jsonl"), "utf8"),
    },
    {
      stage: "label",
      args: (out, c) => [
        ...["label", "--responses", responses, "--judge", spec(), "--principles", "2", "--few-shot", "1"],
        ...common(out, c),
      ],
      kills: [6, 15, 24].map((done) => ({ dir: (out) => out, done })),
      output: (out) => readFile(path.join(out, "preferences.jsonl"), "utf8"),
    },
    {
      stage: "eval",
      args: (out, c) => [
        ...["eval", "--model", spec(), "--model", adapted, "--judge", spec(), "--prompts", prompts],
        ...["--split", "all", "--max-tokens", "12", "--bootstrap", "50", ...common(out, c)],
      ],
      kills: [
        { dir: (out) => path.join(out, "responses"), done: 4 },
        { dir: (out) => path.join(out, "judgments"), done: 3 },
        { dir: (out) => path.join(out, "judgments"), done: 7 },
      ],
      output: async (out) => {
        // The report's data, without the date it was written (which a rerun changes by design).
        const report = JSON.parse(await readFile(path.join(out, "report", "report.json"), "utf8"));
        delete report.run.date;
        return JSON.stringify(report, null, 1);
      },
    },
  );
});

describe.each(["revise", "respond", "label", "eval"])("cai %s", (stage) => {
  it("writes the same output uninterrupted, at another concurrency, and resumed after three SIGKILLs", {
    timeout: 300_000,
  }, async () => {
    const c = cases.find((x) => x.stage === stage) as StageCase;
    const run = (name: string) => path.join(dir, stage, name);
    await cai(c.args(run("alone"), 1));
    const expected = await c.output(run("alone"));
    expect(expected.length).toBeGreaterThan(100);

    await cai(c.args(run("concurrent"), 4));
    expect(await c.output(run("concurrent"))).toBe(expected);

    const killed = run("killed");
    const reached: number[] = [];
    for (const kill of c.kills) {
      await killWhenDone(c.args(killed, 3), kill.dir(killed), kill.done);
      reached.push(doneCount(kill.dir(killed)));
    }
    // Each kill landed after the stage had made progress, and before it was done.
    expect(reached.every((n, i) => n >= (c.kills[i]?.done ?? 0))).toBe(true);
    await cai(c.args(killed, 3));
    expect(await c.output(killed)).toBe(expected);
  });
});
