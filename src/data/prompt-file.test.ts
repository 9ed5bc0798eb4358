// A `--prompts` file read as people have it: cai prompt sets stay strict; other rows are imported with
// their own fields kept, ids from their text, and errors that name the place and the way out.
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { testFolder } from "../test-support/test-models.js";
import { resolvePromptSetFile } from "./builtin-prompt-sets.js";
import { loadPromptFile, type PromptFileReading } from "./prompt-file.js";

async function fileWith(name: string, content: string): Promise<string> {
  const file = path.join(await testFolder(), name);
  await writeFile(file, content);
  return file;
}

describe("loadPromptFile", () => {
  it("keeps a cai prompt set strict: a typo in a field is still an error", async () => {
    const row = { id: "a", kind: "helpful", category: "c", split: "train", promt: "hi" };
    const file = await fileWith("typo.jsonl", `${JSON.stringify(row)}\n`);
    await expect(loadPromptFile(file)).rejects.toThrow(`${file}:1 (prompt): `);
  });

  it("keeps a row's own id, kind, category and split, and fills in the rest", async () => {
    // The first row names no kind and split, so the file is read as rows as people have them.
    const rows = [
      { prompt: "b", extra: "ignored" },
      { id: 7, prompt: "a", kind: "helpful", split: "test", category: "Cooking Tips" },
      { prompt: "b" },
    ];
    const file = await fileWith("mixed.jsonl", rows.map((r) => JSON.stringify(r)).join("\n"));
    const readings: PromptFileReading[] = [];
    const records = await loadPromptFile(file, { category: "mine", onRead: (r) => readings.push(r) });
    const source = "mixed.jsonl";
    expect(records).toEqual([
      { id: expect.any(String), kind: "red-team", category: "mine", split: "train", source, prompt: "b" },
      { id: "7", kind: "helpful", category: "cooking-tips", split: "test", source, prompt: "a" },
    ]);
    expect(records[0]?.id).toMatch(/^mixed-[0-9a-f]{10}$/);
    expect(readings).toMatchObject([
      { prompts: 2, duplicatesDropped: 1, filledKind: true, category: "mine" },
    ]);
  });

  it("names the line and field of a row's bad kind", async () => {
    const file = await fileWith("kind.jsonl", '{"prompt": "a"}\n{"prompt": "b", "kind": "evil"}\n');
    await expect(loadPromptFile(file)).rejects.toThrow(
      `${file}:2 (kind): expected one of "red-team", "helpful"`,
    );
  });
});

describe("resolvePromptSetFile", () => {
  it("lists the built-in sets for a name that is not a file, suggesting the closest", () => {
    expect(() => resolvePromptSetFile("red-tem")).toThrow(
      'no prompt set "red-tem": it is not a file, and the built-in sets are red-team, helpful (did you mean red-team?)',
    );
    expect(() => resolvePromptSetFile("astrology.jsonl")).toThrow(/built-in sets are red-team, helpful$/);
  });
});
