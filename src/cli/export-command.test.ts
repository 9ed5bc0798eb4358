// `cai export` through the real command line on a real revise run: a split the run has no prompts of gets
// no file (an empty one made `train sft --eval-data` fail far from the cause) but one warning saying why.
import { mkdtemp, readdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { runCli } from "../test-support/run-cli.js";
import { testFolder, testModel } from "../test-support/test-models.js";

describe("cai export", () => {
  it("skips a split with no prompts, with one warning that says why and how to get them", async () => {
    const dir = await mkdtemp(path.join(await testFolder(), "export-"));
    const run = path.join(dir, "run");
    const model = await testModel();
    // The default split is train: the run has no test-split prompts.
    const revised = await runCli(
      "revise",
      "--model",
      `llama:${model}?threads=1`,
      "--limit",
      "3",
      "--rounds",
      "1",
      "--max-tokens",
      "8",
      "--no-cache",
      "--out",
      run,
    );
    expect(revised.code, revised.stderr).toBe(0);
    const out = path.join(dir, "datasets");
    await runCli("export", run, "--out", out, "--format", "sft");
    // A test file left by an earlier export must not stay beside the new train file.
    await writeFile(path.join(out, "sft.test.jsonl"), '{"messages": []}\n');

    const exported = await runCli("export", run, "--out", out, "--format", "sft");
    expect(exported.code).toBe(0);
    expect(exported.stdout.trim()).toBe(`${path.join(out, "sft.train.jsonl")}: 3 rows`);
    expect(exported.stderr.trim()).toBe(
      "warning: no sft.test.jsonl written: no test-split prompts in this run; revise with --split all or test to get them (removed 1 old file of that name)",
    );
    expect(await readdir(out)).toEqual(["sft.train.jsonl"]);

    const all = await runCli("export", run, "--out", out);
    expect(all.code).toBe(0);
    expect(all.stderr.trim().split("\n")).toEqual([
      "warning: no sft.test.jsonl, preference.test.jsonl, cai-conversation.test.jsonl, openai-sft.test.jsonl, openai-preference.test.jsonl, trace.test.jsonl written: no test-split prompts in this run; revise with --split all or test to get them",
    ]);
    expect((await readdir(out)).every((name) => name.endsWith(".train.jsonl"))).toBe(true);
  });
});
