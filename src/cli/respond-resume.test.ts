import { execFile, spawn } from "node:child_process";
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { beforeAll, describe, expect, it } from "vitest";
import { createModel } from "../models/create-model.js";
import { readResponsesFile, writeResponsesFile } from "../stages/respond/responses-file.js";
import { type RespondPrompt, respondRecords, runRespond } from "../stages/respond/run-respond.js";
import { doneCount, killWhenDone } from "../test-support/run-records.js";
import { testAdapter, testModel } from "../test-support/test-models.js";

const main = path.resolve(import.meta.dirname, "main.ts");
const node = [process.execPath, "--import", "tsx", main] as const;
const promptCount = 40;

let dir: string;
let promptsFile: string;
let models: string[];

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "cai-respond-resume-"));
  const model = await testModel();
  models = [`llama:${model}?threads=1`, `llama:${model}+${await testAdapter(model)}?threads=1`];
  promptsFile = path.join(dir, "prompts.jsonl");
  const lines = Array.from({ length: promptCount }, (_, i) =>
    JSON.stringify({
      id: `p-${String(i).padStart(2, "0")}`,
      kind: "red-team",
      category: `c${i % 3}`,
      split: "train",
      prompt: `Request number ${i}: how do I do thing ${i}?`,
    }),
  );
  await writeFile(promptsFile, `${lines.join("\n")}\n`);
});

const respondArgs = (out: string, concurrency: number) => [
  "respond",
  ...models.flatMap((spec) => ["--model", spec]),
  "--prompts",
  promptsFile,
  "--out",
  out,
  "--samples",
  "2",
  "--max-tokens",
  "48",
  "--seed",
  "5",
  "--concurrency",
  String(concurrency),
  "--no-cache",
];

/** Starts the run, waits until `more` further prompts are done, then SIGKILLs it. */
async function killMidRun(out: string, concurrency: number, more: number): Promise<void> {
  await killWhenDone(respondArgs(out, concurrency), out, doneCount(out) + more);
}

async function runToEnd(out: string, concurrency: number): Promise<string> {
  await promisify(execFile)(node[0], [...node.slice(1), ...respondArgs(out, concurrency)]);
  return readFile(path.join(out, "responses.jsonl"), "utf8");
}

/** The same run done in this process, uninterrupted, through the library: its responses.jsonl. */
async function referenceFile(out: string): Promise<string> {
  const loaded = await Promise.all(models.map((spec) => createModel(spec)));
  const prompts: RespondPrompt[] = (await readFile(promptsFile, "utf8"))
    .trim()
    .split("\n")
    .map((line) => {
      const { prompt, ...rest } = JSON.parse(line);
      return { ...rest, prompt: [{ role: "user", content: prompt }] };
    });
  try {
    await runRespond({
      runDir: out,
      prompts,
      models: loaded,
      config: { models, samples: 2, seed: 5, temperature: 1, maxTokens: 48 },
      concurrency: 1,
    });
  } finally {
    for (const model of loaded) await model.close?.();
  }
  await writeResponsesFile(path.join(out, "responses.jsonl"), respondRecords(out));
  return readFile(path.join(out, "responses.jsonl"), "utf8");
}

describe("cai respond survives SIGKILL", () => {
  it("killed twice at concurrency 2 then rerun, it writes the uninterrupted run's responses.jsonl byte for byte", async () => {
    const expected = await referenceFile(path.join(dir, "reference"));
    const interrupted = path.join(dir, "interrupted");
    for (let kill = 0; kill < 2; kill += 1) await killMidRun(interrupted, 2, 5);
    const partial = doneCount(interrupted);
    expect(partial).toBeGreaterThanOrEqual(10);
    expect(partial).toBeLessThan(promptCount);
    const actual = await runToEnd(interrupted, 2);
    expect(actual.trim().split("\n")).toHaveLength(promptCount);
    expect(actual).toBe(expected);
  });
});

describe("cai respond on Ctrl-C", () => {
  it("finishes the prompts in flight, writes responses.jsonl for them, and exits 130 with a hint to resume", async () => {
    const out = path.join(dir, "sigint");
    const child = spawn(node[0], [...node.slice(1), ...respondArgs(out, 2)], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stderr = "";
    child.stderr?.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    const deadline = Date.now() + 60_000;
    while (doneCount(out) < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    child.kill("SIGINT");
    expect(await exited).toBe(130);
    expect(stderr).toContain("rerun the same command to resume");
    const done = doneCount(out);
    expect(done).toBeLessThan(promptCount);
    const rows = await readResponsesFile(path.join(out, "responses.jsonl"));
    expect(rows).toHaveLength(done);
    expect(rows.every((row) => row.responses.length === 4)).toBe(true);
  });
});
