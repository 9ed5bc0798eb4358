// Chat messages in users' JSONL rows (`[{"role": …, "content": …}, …]`), checked field by field so an error
// names the line and the field (`messages[2].role`), for the SFT and preference readers alike; and the
// SFT row layouts people have (TRL messages and prompt-completion, Alpaca, ShareGPT).
import { InputFileError } from "../../errors/input-file-error.js";
import type { ChatMessage, ChatRole } from "../../models/model.js";

/** Throws an InputFileError for the row being read, naming `field` when given. */
export type RowFailure = (problem: string, field?: string) => never;

/** A {@link RowFailure} for line `line` of `file`. */
export function rowFailure(file: string, line: number): RowFailure {
  return (problem, field) => {
    throw new InputFileError(file, problem, field === undefined ? { line } : { line, field });
  };
}

const roles: readonly ChatRole[] = ["system", "user", "assistant"];

/** `value` as a list of chat messages, or a failure naming `field` and the offending entry. */
export function chatMessagesOf(value: unknown, field: string, fail: RowFailure): ChatMessage[] {
  if (!Array.isArray(value)) return fail("expected a list of {role, content} messages", field);
  return value.map((message: unknown, i): ChatMessage => {
    const at = `${field}[${i}]`;
    if (typeof message !== "object" || message === null) return fail("expected {role, content}", at);
    const { role, content } = message as { role?: unknown; content?: unknown };
    if (typeof role !== "string" || !(roles as readonly string[]).includes(role))
      return fail(`role must be one of ${roles.join(", ")}`, `${at}.role`);
    if (typeof content !== "string") return fail("content must be a string", `${at}.content`);
    return { role: role as ChatRole, content };
  });
}

/** ShareGPT speakers (`from`) and the chat roles they are. */
const shareGptRoles: Readonly<Record<string, ChatRole>> = {
  system: "system",
  human: "user",
  user: "user",
  gpt: "assistant",
  assistant: "assistant",
};

/** ShareGPT's `conversations`: `[{"from": "human" | "gpt" | "system", "value": …}, …]`. */
function shareGptMessages(value: unknown, fail: RowFailure): ChatMessage[] {
  if (!Array.isArray(value)) return fail("expected a list of {from, value} turns", "conversations");
  return value.map((turn: unknown, i): ChatMessage => {
    const at = `conversations[${i}]`;
    if (typeof turn !== "object" || turn === null) return fail("expected {from, value}", at);
    const { from, value: text } = turn as { from?: unknown; value?: unknown };
    const role = typeof from === "string" ? shareGptRoles[from] : undefined;
    if (role === undefined)
      return fail(`from must be one of ${Object.keys(shareGptRoles).join(", ")}`, `${at}.from`);
    if (typeof text !== "string") return fail("value must be a string", `${at}.value`);
    return { role, content: text };
  });
}

/** A prompt or completion of TRL's prompt-completion layout: text (a user turn / an answer) or messages. */
function turnsOf(value: unknown, field: string, role: ChatRole, fail: RowFailure): ChatMessage[] {
  if (typeof value === "string") return [{ role, content: value }];
  return chatMessagesOf(value, field, fail);
}

/**
 * The conversation of one SFT row, in the layouts people have them in (the last assistant message is
 * what is learnt):
 *   - `{"messages": [...]}` (TRL conversational, OpenAI fine-tuning, `cai export --format sft`)
 *   - `{"prompt": …, "completion": …}` (TRL prompt-completion; each text or messages)
 *   - `{"instruction": …, "input"?: …, "output": …}` (Alpaca; a non-empty input follows the instruction)
 *   - `{"conversations": [{"from", "value"}, …]}` (ShareGPT)
 * Anything else is an InputFileError naming the line, the layouts read and, for a preference row, the
 * commands that take it.
 */
export function sftConversationOf(file: string, line: number, value: unknown): ChatMessage[] {
  const fail = rowFailure(file, line);
  if (typeof value !== "object" || value === null || Array.isArray(value))
    return fail("expected an object with a messages array");
  const row = value as Record<string, unknown>;
  let messages: ChatMessage[];
  if ("messages" in row) messages = chatMessagesOf(row.messages, "messages", fail);
  else if ("completion" in row && "prompt" in row)
    messages = [
      ...turnsOf(row.prompt, "prompt", "user", fail),
      ...turnsOf(row.completion, "completion", "assistant", fail),
    ];
  else if ("instruction" in row && "output" in row) {
    const { instruction, input, output } = row;
    if (typeof instruction !== "string") return fail("instruction must be a string", "instruction");
    if (typeof output !== "string") return fail("output must be a string", "output");
    if (input !== undefined && typeof input !== "string") return fail("input must be a string", "input");
    const content = input?.trim() ? `${instruction}\n\n${input}` : instruction;
    messages = [
      { role: "user", content },
      { role: "assistant", content: output },
    ];
  } else if ("conversations" in row) messages = shareGptMessages(row.conversations, fail);
  else if ("chosen" in row || "preferred_output" in row)
    return fail(
      "a preference pair, not a conversation: `cai train dpo` and `cai train rm` take it; `cai train sft` takes {messages}, {prompt, completion}, {instruction, output} or ShareGPT {conversations} rows",
    );
  else
    return fail(
      "no conversation: expected {messages}, {prompt, completion}, {instruction, output} or ShareGPT {conversations}",
      "messages",
    );
  if (messages.length === 0) return fail("expected a non-empty messages array", "messages");
  return messages;
}
