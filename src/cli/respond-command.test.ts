import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { readResponsesFile } from "../stages/respond/responses-file.js";
import { runCli } from "../test-support/run-cli.js";
import { testAdapter, testModel } from "../test-support/test-models.js";

let dir: string;
let promptsFile: string;
let base: string;
let adapted: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "cai-respond-cli-"));
  const model = await testModel();
  base = `llama:${model}?threads=1`;
  adapted = `llama:${model}+${await testAdapter(model)}?threads=1`;
  promptsFile = path.join(dir, "prompts.jsonl");
  const lines = Array.from({ length: 5 }, (_, i) =>
    JSON.stringify({
      id: `q-${4 - i}`,
      kind: "helpful",
      category: "general",
      split: i === 0 ? "test" : "train",
      prompt: `Question ${i}: what is ${i} plus ${i}?`,
    }),
  );
  await writeFile(promptsFile, `${lines.join("\n")}\n`);
});

describe("cai respond", () => {
  it("samples every model into the run directory and writes responses.jsonl sorted by id", async () => {
    const out = path.join(dir, "run");
    const args = ["respond", "--model", base, "--model", adapted, "--prompts", promptsFile, "--out", out];
    const flags = ["--samples", "3", "--max-tokens", "8", "--seed", "2", "--no-cache"];
    const result = await runCli(...args, ...flags);
    expect(result.stderr).toContain("respond:");
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/respond: 4\/4 done, 0 failed; wrote .*responses\.jsonl/);
    const file = path.join(out, "responses.jsonl");
    const rows = await readResponsesFile(file);
    expect(rows.map((r) => r.id)).toEqual(["q-0", "q-1", "q-2", "q-3"]);
    for (const row of rows) {
      expect(row.split).toBe("train");
      expect(row.prompt).toEqual([{ role: "user", content: expect.stringMatching(/^Question \d/) }]);
      expect(row.responses.map((r) => `${r.model === base ? "base" : "adapted"}:${r.sample}`)).toEqual([
        "base:0",
        "base:1",
        "base:2",
        "adapted:0",
        "adapted:1",
        "adapted:2",
      ]);
    }
    const text = await readFile(file, "utf8");
    // A rerun resumes (nothing to do) and refreshes the same file; another config is refused.
    expect(await runCli(...args, ...flags)).toMatchObject({ code: 0 });
    expect(await readFile(file, "utf8")).toBe(text);
    const changed = await runCli(...args, ...flags, "--temperature", "0.5");
    expect(changed.code).toBe(1);
    expect(changed.stderr).toMatch(/different config; .*--restart/);
  });

  it("exits 2 naming the file, line and field of a bad prompt file", async () => {
    const bad = path.join(dir, "bad.jsonl");
    await writeFile(
      bad,
      `${JSON.stringify({ id: "a", kind: "helpful", category: "c", split: "train", prompt: "Hi" })}\n${JSON.stringify({ id: "b", kind: "helpfull", category: "c", split: "train", prompt: "Hi" })}\n`,
    );
    const result = await runCli("respond", "--model", base, "--prompts", bad, "--out", path.join(dir, "bad"));
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`${bad}:2 (kind):`);
  });
});
