import { spawn } from "node:child_process";
import { mkdtemp, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { readResponsesFile } from "../stages/respond/responses-file.js";
import { cliArgs } from "../test-support/cli-command.js";
import { doneCount } from "../test-support/run-records.js";
import { testAdapter, testModel } from "../test-support/test-models.js";

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

describe("cai respond on Ctrl-C", () => {
  it("finishes the prompts in flight, writes responses.jsonl for them, and exits 130 with a hint to resume", async () => {
    const out = path.join(dir, "sigint");
    const child = spawn(process.execPath, cliArgs(...respondArgs(out, 2)), {
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
