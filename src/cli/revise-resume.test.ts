import { spawn } from "node:child_process";
import { mkdtemp, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import Database from "better-sqlite3";
import { beforeAll, describe, expect, it } from "vitest";
import { cliArgs } from "../test-support/cli-command.js";
import { doneCount } from "../test-support/run-records.js";
import { testModel } from "../test-support/test-models.js";

let dir: string;
let promptsFile: string;
let model: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "cai-resume-"));
  model = await testModel();
  promptsFile = path.join(dir, "prompts.jsonl");
  const lines = Array.from({ length: 24 }, (_, i) =>
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

const reviseArgs = (out: string, concurrency: number) => [
  "revise",
  "--model",
  `llama:${model}?threads=1`,
  "--prompts",
  promptsFile,
  "--out",
  out,
  "--rounds",
  "2",
  "--max-tokens",
  "24",
  "--few-shot",
  "1",
  "--seed",
  "5",
  "--concurrency",
  String(concurrency),
  "--no-cache",
];

describe("cai revise on Ctrl-C", () => {
  it("finishes the prompts in flight, stores them, and exits 130 with a hint to resume", async () => {
    const out = path.join(dir, "sigint");
    const child = spawn(process.execPath, cliArgs(...reviseArgs(out, 2)), {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stderr = "";
    child.stderr?.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    const deadline = Date.now() + 60_000;
    while (doneCount(out) < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 15));
    child.kill("SIGINT");
    expect(await exited).toBe(130);
    expect(stderr).toContain("rerun the same command to resume");
    const db = new Database(path.join(out, "run.sqlite"), { readonly: true });
    const statuses = db.prepare("SELECT status, COUNT(*) AS n FROM records GROUP BY status").all();
    db.close();
    expect(statuses).not.toContainEqual(expect.objectContaining({ status: "failed" }));
    expect(doneCount(out)).toBeLessThan(24);
  });
});
