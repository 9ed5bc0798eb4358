// SFT rows in the layouts people have them in read into one conversation, with errors naming line and field.
import { describe, expect, it } from "vitest";
import { sftConversationOf } from "./chat-rows.js";

const user = (content: string) => ({ role: "user", content });
const assistant = (content: string) => ({ role: "assistant", content });
const conversation = [user("hi"), assistant("hello!")];

/** The message of the InputFileError `value` gives, or "read" when it is read. */
function problem(value: unknown): string {
  try {
    sftConversationOf("sft.jsonl", 2, value);
    return "read";
  } catch (error) {
    return (error as Error).message;
  }
}

describe("sftConversationOf", () => {
  it("reads TRL messages and prompt-completion (text or messages), Alpaca and ShareGPT rows", () => {
    expect(sftConversationOf("f", 1, { messages: conversation })).toEqual(conversation);
    expect(sftConversationOf("f", 1, { prompt: "hi", completion: "hello!" })).toEqual(conversation);
    expect(sftConversationOf("f", 1, { prompt: [user("hi")], completion: [assistant("hello!")] })).toEqual(
      conversation,
    );
    expect(sftConversationOf("f", 1, { instruction: "hi", input: "", output: "hello!" })).toEqual(
      conversation,
    );
    expect(sftConversationOf("f", 1, { instruction: "sum", input: "1 2", output: "3" })).toEqual([
      user("sum\n\n1 2"),
      assistant("3"),
    ]);
    const shareGpt = {
      conversations: [
        { from: "system", value: "be kind" },
        { from: "human", value: "hi" },
        { from: "gpt", value: "hello!" },
      ],
    };
    expect(sftConversationOf("f", 1, shareGpt)).toEqual([
      { role: "system", content: "be kind" },
      ...conversation,
    ]);
  });

  it("names the line and field, and what takes a row that is not a conversation", () => {
    expect(problem({ conversations: [{ from: "robot", value: "x" }] })).toBe(
      "sft.jsonl:2 (conversations[0].from): from must be one of system, human, user, gpt, assistant",
    );
    expect(problem({ instruction: "hi", output: 3 })).toBe("sft.jsonl:2 (output): output must be a string");
    expect(problem({ prompt: "hi", chosen: "a", rejected: "b" })).toMatch(
      /^sft\.jsonl:2: a preference pair, not a conversation: `cai train dpo` and `cai train rm` take it/,
    );
    expect(problem({ text: "hello" })).toBe(
      "sft.jsonl:2 (messages): no conversation: expected {messages}, {prompt, completion}, {instruction, output} or ShareGPT {conversations}",
    );
    expect(problem({ messages: [] })).toBe("sft.jsonl:2 (messages): expected a non-empty messages array");
  });
});
