// Zod schema of the Anthropic Messages API request body this server accepts (text only), and its
// conversion to the model contract's messages. Unknown fields (metadata, top_k…) are ignored.
import { z } from "zod";
import type { ChatMessage } from "../models/model.js";

const textBlock = z.object({
  type: z.literal("text", { error: "only text content blocks are supported" }),
  text: z.string(),
});

/** Content: a string, or text blocks (joined with newlines). */
const content = z.union([z.string(), z.array(textBlock)], {
  error: 'must be a string or an array of {type: "text", text} blocks',
});

/** Body of `POST /v1/messages`. */
export const messagesRequestSchema = z.object({
  model: z.string().nullish(),
  max_tokens: z.number().int().min(1),
  messages: z.array(z.object({ role: z.enum(["user", "assistant"]), content })).min(1),
  system: content.nullish(),
  temperature: z.number().min(0).max(1).nullish(),
  top_p: z.number().min(0).max(1).nullish(),
  stop_sequences: z.array(z.string()).max(16).nullish(),
  stream: z.boolean().nullish(),
});

/** A parsed Messages API request. */
export type MessagesRequest = z.output<typeof messagesRequestSchema>;

function text(value: z.output<typeof content>): string {
  return typeof value === "string" ? value : value.map((block) => block.text).join("\n");
}

/** The conversation in the model contract's shape: the system prompt first, when there is one. */
export function toChatMessages(body: MessagesRequest): ChatMessage[] {
  const system = body.system === null || body.system === undefined ? "" : text(body.system);
  return [
    ...(system ? [{ role: "system" as const, content: system }] : []),
    ...body.messages.map((m) => ({ role: m.role, content: text(m.content) })),
  ];
}
