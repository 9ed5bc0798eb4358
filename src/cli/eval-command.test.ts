// `cai eval` end to end on three generated models (the tiny base and two different random adapters on it),
// judged by the base model: responses, pairwise judgments, ratings and the report; a SIGKILLed run,
// rerun, gives the uninterrupted run's ratings.
import { spawn } from "node:child_process";
import { mkdtemp, readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { cliArgs } from "../test-support/cli-command.js";
import { runCli } from "../test-support/run-cli.js";
import { testAdapter, testFolder, testModel } from "../test-support/test-models.js";

let dir: string;
let args: (out: string) => string[];

beforeAll(async () => {
  dir = await mkdtemp(path.join(await testFolder(), "eval-cli-"));
  const base = await testModel("tiny", "F32");
  const spec = (adapter?: string) => `llama:${base}${adapter ? `+${adapter}` : ""}?threads=1`;
  const models = [spec(), spec(await testAdapter(base, 7)), spec(await testAdapter(base, 8))];
  args = (out) => [
    "eval",
    ...models.flatMap((m) => ["--model", m]),
    ...["--name", "base", "--name", "lora-7", "--name", "lora-8", "--judge", models[0] as string],
    ...[
      "--out",
      out,
      "--limit",
      "4",
      "--max-tokens",
      "8",
      "--bootstrap",
      "50",
      "--concurrency",
      "1",
      "--no-cache",
    ],
  ];
});

const ratingsOf = async (out: string) => {
  const report = JSON.parse(await readFile(path.join(out, "report", "report.json"), "utf8"));
  return { axes: report.axes, rates: report.rates, models: report.models };
};

describe("cai eval", () => {
  it("runs the tournament on three generated models and writes the report", async () => {
    const out = path.join(dir, "whole");
    const run = await runCli(...args(out));
    expect(run.code).toBe(0);
    expect(run.stdout.trim()).toBe(path.join(out, "report", "report.html"));
    expect(run.stderr).toMatch(/lora-8 +helpfulness \d+/);
    expect((await readdir(path.join(out, "report"))).sort()).toEqual([
      "frontier.png",
      "frontier.svg",
      "report.html",
      "report.json",
    ]);
    const { axes, models } = await ratingsOf(out);
    expect(models.map((m: { name: string }) => m.name)).toEqual(["base", "lora-7", "lora-8"]);
    expect(axes.helpfulness.comparisons).toBe(4 * 3);
    expect(axes.harmlessness.ratings[0].elo).toBe(1000);
  });

  it("with --judge human queues the comparisons, cai judge records keys, and the report rates from them", async () => {
    const out = path.join(dir, "human");
    const humanArgs = args(out).map((a, i, all) => (all[i - 1] === "--judge" ? "human" : a));
    const queued = await runCli(...humanArgs);
    expect(queued.code).toBe(0);
    expect(queued.stderr).toMatch(/24 comparisons queued in .*queue\.jsonl; label them with: cai judge/);
    const typed = Array.from({ length: 24 }, (_, i) => ["a", "b", "t"][i % 3]).join("\n");
    const judge = spawn(process.execPath, cliArgs("judge", out), {
      stdio: ["pipe", "ignore", "pipe"],
    });
    let printed = "";
    judge.stderr?.on("data", (chunk: Buffer) => {
      printed += chunk.toString();
    });
    judge.stdin?.end(`${typed}\n`);
    const code = await new Promise<number | null>((resolve) => judge.once("exit", resolve));
    expect(code).toBe(0);
    expect(printed).toContain("judge: 24 answered, 0 to go");
    const rated = await runCli(...humanArgs);
    expect(rated.code).toBe(0);
    expect(rated.stderr).toContain("human ratings from 24 answers");
    const report = JSON.parse(await readFile(path.join(out, "report", "report.json"), "utf8"));
    expect(report.run.judge).toBe("human");
    expect(report.axes.helpfulness.comparisons + report.axes.harmlessness.comparisons).toBe(24);

    // An AI-judged run in the same directory reports the person's ratings beside the judge model's.
    const both = await runCli(...args(out));
    expect(both.code).toBe(0);
    const combined = JSON.parse(await readFile(path.join(out, "report", "report.json"), "utf8"));
    expect(combined.run.judge).not.toBe("human");
    expect(combined.human.answers).toBe(24);
    expect(combined.human.axes.helpfulness.ratings).toHaveLength(3);
    expect(await readFile(path.join(out, "report", "report.html"), "utf8")).toContain("Human judgments");
  });
});
