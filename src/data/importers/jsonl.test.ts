import { writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { testFolder } from "../../test-support/test-models.js";
import { importJsonl } from "./jsonl.js";

const fixture = (name: string) => path.resolve(import.meta.dirname, "../fixtures", name);

async function fileWith(name: string, content: string): Promise<string> {
  const file = path.join(await testFolder(), name);
  await writeFile(file, content);
  return file;
}

describe("importing JSONL files by field path", () => {
  it("takes message lists (final answers dropped, extra keys ignored) and strings, with ids and categories", async () => {
    const result = await importJsonl(fixture("conversations.jsonl"), {
      kind: "helpful",
      field: "messages",
      idField: "id",
      categoryField: "topic",
    });
    const base = { kind: "helpful", split: "train", source: "conversations.jsonl" };
    expect(result).toEqual({
      records: [
        {
          ...base,
          id: "c1",
          category: "cooking",
          prompt: [
            { role: "system", content: "You are a friendly cook." },
            { role: "user", content: "How do I poach an egg?" },
          ],
        },
        {
          ...base,
          id: "2",
          category: "travel",
          prompt: [
            { role: "user", content: "I'm visiting Lisbon." },
            { role: "assistant", content: "Lovely! How long are you staying?" },
            { role: "user", content: "Three days. What should I see?" },
          ],
        },
        { ...base, id: "c3", category: "travel", prompt: "Which trams in Lisbon are worth riding?" },
      ],
      duplicatesDropped: 0,
    });
  });

  it("follows a dotted path with array indices", async () => {
    const result = await importJsonl(fixture("sharegpt-like.jsonl"), {
      kind: "helpful",
      category: "picnic",
      field: "conversation.0.content",
    });
    const base = { kind: "helpful", category: "picnic", split: "train", source: "sharegpt-like.jsonl" };
    expect(result).toEqual({
      records: [
        { ...base, id: "sharegpt-like-1", prompt: "Plan a picnic for four people." },
        { ...base, id: "sharegpt-like-2", prompt: "What games can we play at a picnic?" },
      ],
      duplicatesDropped: 0,
    });
  });

  it.each([
    ["bad JSON", "{oops}", "messages", undefined, /not valid JSON/],
    [
      "a missing field",
      '{"text": "hi"}',
      "conversation.0.content",
      "conversation[0].content",
      /: required field is missing$/,
    ],
    [
      "a field of the wrong type",
      '{"messages": 42}',
      "messages",
      "messages",
      /expected a string or a list of \{role, content\} messages, got the number 42/,
    ],
    [
      "a message with a bad role",
      '{"messages": [{"role": "human", "content": "hi"}]}',
      "messages",
      "messages[0].role",
      /expected one of/,
    ],
    [
      "a message without content",
      '{"messages": [{"role": "user"}]}',
      "messages",
      "messages[0].content",
      /missing/,
    ],
    [
      "a conversation with only answers",
      '{"messages": [{"role": "assistant", "content": "hi"}]}',
      "messages",
      "messages",
      /no messages/,
    ],
    [
      "a system message in the middle",
      '{"messages": [{"role": "user", "content": "a"}, {"role": "system", "content": "b"}, {"role": "user", "content": "c"}]}',
      "messages",
      "messages[1].role",
      /only the first message/,
    ],
  ])("rejects %s, naming the line and field", async (_, bad, field, errorField, message) => {
    const file = await fileWith(
      "bad.jsonl",
      `{"messages": "fine", "text": "fine", "conversation": [{"content": "fine"}]}\n${bad}\n`,
    );
    const error = await importJsonl(file, { kind: "helpful", category: "x", field }).catch((e: unknown) => e);
    expect(error).toMatchObject({
      name: "InputFileError",
      file,
      line: 2,
      field: errorField,
      message: expect.stringMatching(message),
    });
  });

  it("rejects an id of the wrong type and a repeated id", async () => {
    const options = { kind: "helpful", category: "x", field: "text", idField: "meta.id" } as const;
    const objectId = await fileWith("object-id.jsonl", '{"text": "a", "meta": {"id": {}}}\n');
    await expect(importJsonl(objectId, options)).rejects.toThrow(
      `${objectId}:1 (meta.id): expected a string or a number, got a map of fields`,
    );
    const repeated = await fileWith(
      "repeated-id.jsonl",
      '{"text": "a", "meta": {"id": 7}}\n{"text": "b", "meta": {"id": "7"}}\n',
    );
    await expect(importJsonl(repeated, options)).rejects.toThrow(
      `${repeated}:2 (meta.id): duplicate id "7", first used on line 1`,
    );
  });
});
