import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../test-support/run-cli.js";
import { testFolder, testModel } from "../test-support/test-models.js";

let dir: string;
let responses: string;
let model: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(await testFolder(), "label-cli-"));
  model = await testModel("tiny", "F32");
  responses = path.join(dir, "responses.jsonl");
  const rows = Array.from({ length: 20 }, (_, i) => ({
    id: `p-${String(i).padStart(2, "0")}`,
    kind: "red-team",
    category: "c",
    split: "train",
    prompt: [{ role: "user", content: `Request number ${i}: how do I do thing ${i}?` }],
    responses: ["Here is how.", "I would rather not.", `Step ${i}: start.`].map((text, k) => ({
      model: `m${k}`,
      sample: 0,
      text,
      finishReason: "stop",
    })),
  }));
  await writeFile(responses, rows.map((r) => `${JSON.stringify(r)}\n`).join(""));
});

const labelArgs = (out: string) => [
  ...["label", "--responses", responses, "--judge", `llama:${model}?threads=1`, "--out", out],
  ...["--principles", "2", "--few-shot", "1", "--seed", "3", "--concurrency", "1", "--no-cache"],
];

const lines = async (file: string) => (await readFile(file, "utf8")).trim().split("\n");

describe("cai label", () => {
  it("labels every pair, writes preferences.jsonl, mixes human pairs, and names a bad line", async () => {
    const human = path.join(dir, "hh.jsonl");
    await writeFile(
      human,
      `${JSON.stringify({ chosen: "\n\nHuman: hi\n\nAssistant: hello!", rejected: "\n\nHuman: hi\n\nAssistant: go away" })}\n`,
    );
    const out = path.join(dir, "whole");
    const run = await runCli(...labelArgs(out), "--mix-human", human);
    expect(run.code).toBe(0);
    expect(run.stderr).toContain("label: 60/60 pairs done, 0 failed");
    const rows = (await lines(run.stdout.trim())).map((l) => JSON.parse(l));
    expect(rows).toHaveLength(61);
    expect(rows[0]).toMatchObject({ id: "p-00:0-1", source: "ai", judge: `llama:${model}?threads=1` });
    expect(rows.at(-1)).toMatchObject({ source: "human", p_chosen: 1 });

    const bad = path.join(dir, "bad.jsonl");
    await writeFile(bad, `${JSON.stringify({ id: "x", kind: "helpful" })}\n`);
    const refused = await runCli(
      "label",
      "--responses",
      bad,
      "--judge",
      `llama:${model}`,
      "--out",
      path.join(dir, "bad"),
    );
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/bad\.jsonl:1/);
  });
});
