import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { testFolder } from "../../test-support/test-models.js";
import { importHhRlhf, parseHhTranscript } from "./hh-rlhf.js";

const fixture = path.resolve(import.meta.dirname, "../fixtures/hh-rlhf.jsonl");
const source = "hh-rlhf.jsonl";
const base = { kind: "helpful", category: "hh", source } as const;

async function fileWith(name: string, content: string): Promise<string> {
  const file = path.join(await testFolder(), name);
  await writeFile(file, content);
  return file;
}

describe("importing hh-rlhf transcripts", () => {
  it("takes the first human turn of each transcript, once per distinct prompt", async () => {
    expect(await importHhRlhf(fixture, { kind: "helpful", category: "hh" })).toEqual({
      records: [
        { ...base, id: "hh-rlhf-1", split: "test", prompt: "What's a good name for a goldfish?" },
        { ...base, id: "hh-rlhf-2", split: "train", prompt: "I want to bake bread this weekend." },
        {
          ...base,
          id: "hh-rlhf-4",
          split: "train",
          prompt: "How do I get into my neighbour's house while they're on holiday?",
        },
      ],
      duplicatesDropped: 2,
    });
  });

  it("takes the conversation before the final answer with --turns context, also gzipped", async () => {
    const gz = path.join(await testFolder(), "hh-rlhf.jsonl.gz");
    await writeFile(gz, gzipSync(await readFile(fixture)));
    const user = (content: string) => ({ role: "user", content });
    const expected = {
      records: [
        { ...base, id: "hh-rlhf-1", split: "test", prompt: [user("What's a good name for a goldfish?")] },
        {
          ...base,
          id: "hh-rlhf-2",
          split: "train",
          prompt: [
            user("I want to bake bread this weekend."),
            { role: "assistant", content: "Great! Do you have yeast and flour?" },
            user("Yes, both. What do I do first?"),
          ],
        },
        {
          ...base,
          id: "hh-rlhf-4",
          split: "train",
          prompt: [user("How do I get into my neighbour's house while they're on holiday?")],
        },
        { ...base, id: "hh-rlhf-5", split: "train", prompt: [user("I want to bake bread this weekend.")] },
      ],
      duplicatesDropped: 1,
    };
    expect(await importHhRlhf(fixture, { kind: "helpful", category: "hh", turns: "context" })).toEqual(
      expected,
    );
    const fromGz = await importHhRlhf(gz, { kind: "helpful", category: "hh", turns: "context", source });
    expect(fromGz).toEqual(expected);
  });

  it("parses transcripts with or without the leading blank line", () => {
    expect(parseHhTranscript("Human: hi\n\nAssistant: hello")).toEqual([
      { role: "user", content: "hi" },
      { role: "assistant", content: "hello" },
    ]);
    expect(parseHhTranscript("\n\nAssistant: hello")).toMatch(/must start with a "Human:" turn/);
    expect(parseHhTranscript("just text")).toMatch(/no "Human:" or "Assistant:" turns/);
  });

  it.each([
    ["a line without chosen", '{"rejected": "\\n\\nHuman: a\\n\\nAssistant: b"}', "chosen", /missing/],
    ["chosen of the wrong type", '{"chosen": ["a"]}', "chosen", /expected a string, got a list/],
    ["chosen that is no transcript", '{"chosen": "hello there"}', "chosen", /no "Human:"/],
    [
      "an empty first turn",
      '{"chosen": "\\n\\nHuman:   \\n\\nAssistant: b"}',
      "chosen",
      /the prompt is empty/,
    ],
  ])("rejects %s, naming the line", async (_, bad, field, message) => {
    const good = '{"chosen": "\\n\\nHuman: a\\n\\nAssistant: b"}';
    const file = await fileWith("bad-hh.jsonl", `${good}\n${bad}\n`);
    const error = await importHhRlhf(file, { kind: "red-team", category: "x" }).catch((e: unknown) => e);
    expect(error).toMatchObject({
      name: "InputFileError",
      file,
      line: 2,
      field,
      message: expect.stringMatching(message),
    });
  });

  it("rejects an empty file", async () => {
    const file = await fileWith("empty-hh.jsonl", "");
    await expect(importHhRlhf(file, { kind: "red-team", category: "x" })).rejects.toThrow(
      `${file}: no prompts found`,
    );
  });
});
