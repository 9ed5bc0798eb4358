// Chat messages in users' JSONL rows (`[{"role": …, "content": …}, …]`), checked field by field so an error
// names the line and the field (`messages[2].role`), for the SFT and preference readers alike.
import { InputFileError } from "../errors/input-file-error.js";
import type { ChatMessage, ChatRole } from "../models/model.js";

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
