// Tests `cai prompts …` in-process (the command lives in src/cli/commands/prompts-command.ts).
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { Command } from "commander";
import { afterEach, describe, expect, it, vi } from "vitest";
import { registerPromptsCommand } from "../cli/commands/prompts-command.js";
import { testFolder } from "../test-support/test-models.js";
import { loadPromptSet } from "./prompt-set.js";

const fixture = (name: string) => path.resolve(import.meta.dirname, "fixtures", name);

/** Runs `cai prompts …` and returns what it printed and the exit code it set. */
async function cai(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const program = new Command().name("cai").exitOverride();
  // Subcommands copy these settings when created, so set them before registering.
  program.configureOutput({
    writeErr: (text) => void err.push(text),
    writeOut: (text) => void out.push(text),
  });
  registerPromptsCommand(program);
  vi.spyOn(console, "log").mockImplementation((...parts: unknown[]) => void out.push(parts.join(" ")));
  vi.spyOn(console, "error").mockImplementation((...parts: unknown[]) => void err.push(parts.join(" ")));
  process.exitCode = 0;
  try {
    await program.parseAsync(["prompts", ...args], { from: "user" });
  } catch (error) {
    err.push(String(error));
    process.exitCode ||= 1;
  }
  const code = Number(process.exitCode ?? 0);
  process.exitCode = 0;
  return { code, stdout: out.join("\n"), stderr: err.join("\n") };
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe("cai prompts", () => {
  it("shows a built-in set: counts by category and split, then a few prompts", async () => {
    const shown = await cai("show", "red-team", "--limit", "2");
    expect(shown.code).toBe(0);
    expect(shown.stdout).toMatch(/^red-team \(.*red-team\.jsonl\): 226 of 226 prompts/);
    expect(shown.stdout).toMatch(/violence-weapons\s+16\s+4\s+20/);
    expect(shown.stdout).toMatch(/total\s+178\s+48\s+226/);
    expect(shown.stdout).toContain("rt-violence-weapons-001 [train, violence-weapons, direct]");
    expect(shown.stdout).toContain("rt-self-harm-001 [train, self-harm, direct]");
    expect(shown.stdout).not.toContain("rt-violence-weapons-002");

    const filtered = await cai(
      "show",
      "helpful",
      "--split",
      "test",
      "--category",
      "benign-looks-risky",
      "--limit",
      "1",
    );
    expect(filtered.stdout).toMatch(/11 of 210 prompts \(test, category benign-looks-risky\)/);
    expect(filtered.stdout).toMatch(/benign-looks-risky\s+0\s+11\s+11/);
    const none = await cai("show", "helpful", "--category", "astrology");
    expect(none.stdout).toMatch(/no prompts match; the categories are: coding, writing/);
  });

  it("imports a CSV file, then validates and shows the result", async () => {
    const out = path.join(await testFolder(), "cli", "xstest.jsonl");
    const imported = await cai(
      "import",
      fixture("xstest-like.csv"),
      "--format",
      "csv",
      "--kind",
      "helpful",
      "--prompt-column",
      "prompt",
      "--id-column",
      "id",
      "--category-column",
      "type",
      "--out",
      out,
    );
    expect(imported).toMatchObject({ code: 0, stderr: "" });
    expect(imported.stdout).toBe(`wrote 4 helpful prompts in 4 categories to ${out} (4 train, 0 test)`);
    expect((await loadPromptSet(out)).map((r) => r.id)).toEqual(["v1-1", "v1-2", "v1-3", "v1-4"]);
    expect((await cai("validate", out)).stdout).toBe(
      `${out}: 4 prompts valid, 4 categories (4 train, 0 test)`,
    );
    const shown = await cai("show", out, "--limit", "3");
    expect(shown.stdout).toContain(
      "v1-3 [train, fictional]\n  Write a short scene where\n    two knights duel at dawn.",
    );
  });

  it("imports hh-rlhf conversations and JSONL fields", async () => {
    const dir = await testFolder();
    const hh = await cai(
      "import",
      fixture("hh-rlhf.jsonl"),
      "--format",
      "hh-rlhf",
      "--turns",
      "context",
      "--kind",
      "red-team",
      "--category",
      "hh",
      "--out",
      path.join(dir, "hh.jsonl"),
    );
    expect(hh.stdout).toMatch(
      /wrote 4 red-team prompts in 1 category .* \(3 train, 1 test; 1 repeated prompts left out\)/,
    );
    const jsonl = await cai(
      "import",
      fixture("sharegpt-like.jsonl"),
      "--format",
      "jsonl",
      "--field",
      "conversation[0].content",
      "--kind",
      "helpful",
      "--category",
      "picnic",
      "--out",
      path.join(dir, "picnic.jsonl.gz"),
    );
    expect(jsonl.stdout).toMatch(/wrote 2 helpful prompts/);
    expect((await loadPromptSet(path.join(dir, "picnic.jsonl.gz"))).length).toBe(2);
  });

  it("finds the prompt by name and defaults the kind and category when no mapping is given", async () => {
    const dir = await testFolder();
    const out = path.join(dir, "advbench.jsonl");
    // No --prompt-column (AdvBench's is `goal`), no --kind, no --category.
    const csv = await cai("import", fixture("advbench-like.csv"), "--format", "csv", "--out", out);
    expect(csv).toMatchObject({ code: 0 });
    expect(csv.stdout).toMatch(/^wrote 3 red-team prompts in 1 category/);
    expect((await loadPromptSet(out)).map(({ id, category }) => [id, category])).toEqual([
      ["advbench-like-2", "advbench-like"],
      ["advbench-like-3", "advbench-like"],
      ["advbench-like-5", "advbench-like"],
    ]);
    const rows = path.join(dir, "rows.jsonl");
    await writeFile(rows, '{"prompt": "How do I pick a lock?"}\n{"question": "Why is the sky blue?"}\n');
    const jsonl = await cai("import", rows, "--format", "jsonl", "--kind", "helpful", "--out", `${rows}.out`);
    expect(jsonl.stdout).toMatch(/^wrote 2 helpful prompts in 1 category/);
    const none = path.join(dir, "none.csv");
    await writeFile(none, "query,answer\nhi,there\n");
    const refused = await cai("import", none, "--format", "csv", "--out", `${none}.out`);
    expect(refused).toMatchObject({
      code: 2,
      stderr: `cai: ${none}:1: no prompt column: the columns are query, answer, none of prompt, question, instruction, goal, forbidden_prompt, text; convert it with \`cai prompts import ${none} --format csv --prompt-column NAME --out prompts.jsonl\``,
    });
  });

  it("exits with 2 and the place for a malformed file or a misused flag", async () => {
    const bad = path.join(await testFolder(), "cli-bad.jsonl");
    await writeFile(bad, '{"id": "a", "kind": "helpful", "category": "c", "split": "dev", "prompt": "hi"}\n');
    expect(await cai("validate", bad)).toMatchObject({
      code: 2,
      stderr: `cai: ${bad}:1 (split): expected one of "train", "test", got the string "dev"`,
    });
    const csvFlag = await cai(
      "import",
      bad,
      "--format",
      "jsonl",
      "--prompt-column",
      "x",
      "--kind",
      "helpful",
      "--category",
      "c",
      "--out",
      "x.jsonl",
    );
    expect(csvFlag).toMatchObject({
      code: 2,
      stderr: "cai: --prompt-column applies to --format csv, not jsonl",
    });
    const sameFile = await cai(
      "import",
      bad,
      "--format",
      "hh-rlhf",
      "--kind",
      "helpful",
      "--category",
      "c",
      "--out",
      bad,
    );
    expect(sameFile).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/--out is the file being imported/),
    });
    const badKind = await cai("import", bad, "--format", "csv", "--kind", "evil", "--out", "x.jsonl");
    expect(badKind.stderr).toMatch(/argument 'evil' is invalid/);
  });
});
