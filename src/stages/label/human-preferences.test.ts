// hh-rlhf transcripts become human-labelled rows in cai label's shape, which the trainer reads back.
import { mkdtemp, writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { testFolder } from "../../test-support/test-models.js";
import { readPreferenceRows } from "../../train/data/preference-data.js";
import { humanPreferenceRows } from "./human-preferences.js";

describe("humanPreferenceRows", () => {
  it("reads hh-rlhf pairs as human rows, limited, that the trainer reads back", async () => {
    const dir = await mkdtemp(path.join(await testFolder(), "human-"));
    const file = path.join(dir, "hh.jsonl");
    const pair = (i: number) => ({
      chosen: `\n\nHuman: question ${i}?\n\nAssistant: a helpful answer ${i}`,
      rejected: `\n\nHuman: question ${i}?\n\nAssistant: no`,
    });
    await writeFile(file, [0, 1, 2].map((i) => `${JSON.stringify(pair(i))}\n`).join(""));
    const rows = await humanPreferenceRows(file, 2);
    expect(rows).toHaveLength(2);
    expect(rows[1]).toEqual({
      id: "human:2",
      prompt: [{ role: "user", content: "question 1?" }],
      chosen: [{ role: "assistant", content: "a helpful answer 1" }],
      rejected: [{ role: "assistant", content: "no" }],
      p_chosen: 1,
      source: "human",
      origin: `${file}:2`,
    });
    const mixed = path.join(dir, "mixed.jsonl");
    await writeFile(mixed, rows.map((r) => `${JSON.stringify(r)}\n`).join(""));
    expect((await readPreferenceRows(mixed)).map((r) => r.chosen)).toEqual([
      "a helpful answer 0",
      "a helpful answer 1",
    ]);
  });
});
