// Preference rows in each layout people have them in read into one shape, with errors naming line and field.
import { mkdtemp, writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { InputFileError } from "../../errors/input-file-error.js";
import { testFolder } from "../../test-support/test-models.js";
import { preferenceRowOf, readPreferenceRows } from "./preference-data.js";

const user = (content: string) => ({ role: "user", content });
const assistant = (content: string) => ({ role: "assistant", content });
const expected = { line: 3, prompt: [user("hi")], chosen: "hello!", rejected: "go away", target: 1 };

describe("preferenceRowOf", () => {
  it("reads TRL's explicit-prompt layout, conversational or plain text (cai export --format preference)", () => {
    const conversational = {
      prompt: [user("hi")],
      chosen: [assistant("hello!")],
      rejected: [assistant("go away")],
    };
    expect(preferenceRowOf("f", 3, conversational)).toEqual(expected);
    expect(preferenceRowOf("f", 3, { prompt: "hi", chosen: "hello!", rejected: "go away" })).toEqual(
      expected,
    );
  });

  it("reads the implicit-prompt layout and hh-rlhf transcripts (the shared opening is the prompt)", () => {
    const implicit = {
      chosen: [user("hi"), assistant("hello!")],
      rejected: [user("hi"), assistant("go away")],
    };
    expect(preferenceRowOf("f", 3, implicit)).toEqual(expected);
    const hh = {
      chosen: "\n\nHuman: hi\n\nAssistant: hello!",
      rejected: "\n\nHuman: hi\n\nAssistant: go away",
    };
    expect(preferenceRowOf("f", 3, hh)).toEqual(expected);
  });

  it("reads OpenAI's preference layout and a cai label soft label", () => {
    const openai = {
      input: { messages: [user("hi")] },
      preferred_output: [assistant("hello!")],
      non_preferred_output: [assistant("go away")],
      p_chosen: 0.7,
    };
    expect(preferenceRowOf("f", 3, openai)).toEqual({ ...expected, target: 0.7 });
  });

  it("reads UltraFeedback's layout: the prompt as text and again at the start of each side, read once", () => {
    const ultra = {
      prompt: "hi",
      chosen: [user("hi"), assistant("hello!")],
      rejected: [user("hi"), assistant("go away")],
      score_chosen: 9,
    };
    expect(preferenceRowOf("f", 3, ultra)).toEqual(expected);
  });

  it("names the line and field of what is wrong", () => {
    const fail = (value: unknown) => {
      try {
        preferenceRowOf("prefs.jsonl", 4, value);
      } catch (error) {
        expect(error).toBeInstanceOf(InputFileError);
        return (error as Error).message;
      }
      throw new Error("no error");
    };
    expect(fail({ prompt: "hi", chosen: "a" })).toBe("prefs.jsonl:4 (rejected): expected a rejected answer");
    expect(fail({ messages: [user("hi"), assistant("a")] })).toMatch(
      /^prefs\.jsonl:4: a conversation, not a preference pair: `cai train sft` takes it/,
    );
    expect(fail({ prompt: "hi", chosen: "a", rejected: "b", p_chosen: 2 })).toMatch(
      /\(p_chosen\): .*between 0 and 1/,
    );
    expect(fail({ chosen: [user("hi"), assistant("a")], rejected: [user("ho"), assistant("b")] })).toMatch(
      /\(rejected\): chosen and rejected must share/,
    );
    expect(fail({ prompt: [user("hi")], chosen: [user("x")], rejected: "b" })).toMatch(
      /\(chosen\): must end with an assistant message/,
    );
    expect(fail({ prompt: [{ role: "bot", content: "x" }], chosen: "a", rejected: "b" })).toMatch(
      /\(prompt\[0\]\.role\)/,
    );
  });
});

describe("empty answers", () => {
  it("are kept: a pair preferring an answer to none (a model that stopped at once) is a real pair", () => {
    const row = preferenceRowOf("p.jsonl", 3, { prompt: "hi", chosen: "hello!", rejected: "" });
    expect(row).toMatchObject({ chosen: "hello!", rejected: "" });
    const messages = preferenceRowOf("p.jsonl", 4, {
      prompt: [{ role: "user", content: "hi" }],
      chosen: [{ role: "assistant", content: "" }],
      rejected: [{ role: "assistant", content: "no" }],
    });
    expect(messages).toMatchObject({ chosen: "", rejected: "no" });
  });
});

describe("readPreferenceRows", () => {
  it("reads every line of a file and refuses an empty one", async () => {
    const dir = await mkdtemp(path.join(await testFolder(), "prefs-"));
    const file = path.join(dir, "p.jsonl");
    await writeFile(file, `${JSON.stringify({ prompt: "hi", chosen: "hello!", rejected: "go away" })}\n\n`);
    expect(await readPreferenceRows(file)).toEqual([{ ...expected, line: 1 }]);
    await writeFile(file, "\n");
    await expect(readPreferenceRows(file)).rejects.toThrow(/holds no preference pairs/);
  });
});
