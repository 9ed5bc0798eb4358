// Tests `cai constitution …` in-process (the command lives in src/cli/commands/constitution-command.ts).
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { Command } from "commander";
import { afterEach, describe, expect, it, vi } from "vitest";
import { registerConstitutionCommand } from "../cli/commands/constitution-command.js";
import { testFolder } from "../test-support/test-models.js";
import { loadConstitution, loadDefaultConstitution } from "./load-constitution.js";

/** Runs `cai constitution …args` and returns what it printed and its exit code. */
async function cai(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const log = vi.spyOn(console, "log").mockImplementation((line: unknown) => void stdout.push(String(line)));
  const error = vi
    .spyOn(console, "error")
    .mockImplementation((line: unknown) => void stderr.push(String(line)));
  const program = new Command().exitOverride().configureOutput({ writeErr: () => {} });
  registerConstitutionCommand(program);
  try {
    await program.parseAsync(["node", "cai", "constitution", ...args]);
    return { code: Number(process.exitCode ?? 0), stdout: stdout.join("\n"), stderr: stderr.join("\n") };
  } finally {
    log.mockRestore();
    error.mockRestore();
    process.exitCode = undefined;
  }
}

afterEach(() => {
  process.exitCode = undefined;
});

describe("cai constitution", () => {
  it("validates a file and counts what it holds", async () => {
    const builtIn = await loadDefaultConstitution();
    const file = path.join(await testFolder(), "cli-default.json");
    await writeFile(file, JSON.stringify(builtIn));
    const examples = builtIn.examples.critique.length + builtIn.examples.comparison.length;
    expect(await cai("validate", file)).toEqual({
      code: 0,
      stdout: `ok: ${builtIn.principles.length} principles, ${builtIn.comparisons.length} comparisons, ${examples} examples`,
      stderr: "",
    });
  });

  it("exits 2 with one line naming the place for a malformed file", async () => {
    const file = path.join(await testFolder(), "cli-bad.yaml");
    await writeFile(file, "name: x\nversion: '1'\nprinciples: []\n");
    const result = await cai("validate", file);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(
      `cai: ${file}:3:13 (principles): a constitution needs at least one critique/revision principle`,
    );
  });

  it("shows the built-in constitution compactly, or as JSON", async () => {
    const shown = await cai("show");
    expect(shown.code).toBe(0);
    expect(shown.stdout).toMatch(/^cai-default 1\.0\.0 — /);
    expect(shown.stdout).toMatch(/^sha256 [0-9a-f]{64}$/m);
    expect(shown.stdout).toMatch(/^ {2}self-harm \[harm, self-harm\]\n {4}critique: /m);
    expect(shown.stdout).toMatch(/^ {2}less-harmful \[harm\]: Which of these/m);
    const json = await cai("show", "--json");
    expect(JSON.parse(json.stdout)).toEqual(await loadDefaultConstitution());
  });

  it("imports another tool's format into YAML that points at the JSON Schema", async () => {
    const dir = await testFolder();
    const out = path.join(dir, "imported", "..", "cli-imported.yaml");
    const fixtures = path.join(import.meta.dirname, "fixtures");
    const result = await cai(
      "import",
      path.join(fixtures, "paper-principles.json"),
      "--comparisons",
      path.join(fixtures, "paper-comparisons.json"),
      "--name",
      "paper-house",
      "--constitution-version",
      "0.2.0",
      "--out",
      out,
    );
    expect(result.stdout).toBe(`wrote ${out} (paper format): 5 principles, 3 comparisons, 0 examples`);
    expect(result.stderr).toBe('cai: warning: principle "Kind Tone 3" has the id "kind-tone-3"');
    const text = await readFile(out, "utf8");
    const schemaRef = /^# yaml-language-server: \$schema=(.+)$/m.exec(text)?.[1] ?? "";
    expect(path.resolve(dir, schemaRef)).toBe(
      path.resolve(import.meta.dirname, "../../schema/constitution.schema.json"),
    );
    const imported = await loadConstitution(out);
    expect([imported.name, imported.version, imported.principles.length]).toEqual([
      "paper-house",
      "0.2.0",
      5,
    ]);

    // commander rejects the flag before the action runs (exitOverride turns its exit into a throw).
    await expect(
      cai("import", path.join(fixtures, "paper-principles.json"), "--format", "openai", "--out", out),
    ).rejects.toThrow(/--format must be one of auto, paper, llm-swarm, langchain, got "openai"/);
  });
});
