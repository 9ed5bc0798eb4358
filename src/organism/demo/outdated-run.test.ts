// An output directory whose DPO labels an older cai demo stored (the organism labelling every pair, no
// helpfulness labels) is refused before any work, with one clear error — resuming it would mix two loops.
import { mkdir, mkdtemp, readdir, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { runCli } from "../../test-support/run-cli.js";

const oldLabels = { seconds: 6.7, result: { pairs: 267, agreement: { rate: 0.886, n: 228 } } };

describe("cai demo on an outdated output directory", () => {
  it("stops before any work and asks for --restart", async () => {
    const out = await mkdtemp(path.join(os.tmpdir(), "cai-demo-outdated-"));
    await mkdir(path.join(out, "phases"));
    await writeFile(path.join(out, "phases", "label.json"), JSON.stringify(oldLabels));
    const result = await runCli("demo", "--quick", "--out", out);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain(`${out} holds DPO labels from an older cai demo`);
    expect(result.stderr).toContain("--restart");
    expect(result.stderr).not.toMatch(/\n\s+at /);
    expect((await readdir(out)).filter((name) => !name.startsWith("cai.lock"))).toEqual(["phases"]);
    expect(await readdir(path.join(out, "phases"))).toEqual(["label.json"]);
  });
});
