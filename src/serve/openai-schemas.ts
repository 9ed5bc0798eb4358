// Zod schemas of the OpenAI request bodies this server accepts (`/v1/chat/completions`, `/v1/completions`).
// Unknown fields are ignored, as OpenAI-compatible servers do; `null` counts as absent.
import { z } from "zod";
import type { ChatMessage } from "../models/model.js";

const textPart = z.object({
  type: z.literal("text", { error: "only text content parts are supported" }),
  text: z.string(),
});

/** Message content: a string, or text parts (joined with newlines, as vLLM does). */
const chatContent = z.union([z.string(), z.array(textPart)], {
  error: 'must be a string or an array of {type: "text", text} parts',
});

const chatMessage = z.object({
  // `developer` is OpenAI's newer name for `system`.
  role: z.enum(["system", "developer", "user", "assistant"]),
  content: chatContent,
});

/** Stop strings: one, or several. */
const stop = z.union([z.string(), z.array(z.string()).max(16)]).nullish();

/** Sampling fields shared by both endpoints. */
const sampling = {
  model: z.string().nullish(),
  temperature: z.number().min(0).max(2).nullish(),
  top_p: z.number().min(0).max(1).nullish(),
  seed: z.number().int().nullish(),
  stop,
  n: z.literal(1, { error: "only n = 1 is supported" }).nullish(),
};

/** Body of `POST /v1/chat/completions`. */
export const chatCompletionRequestSchema = z.object({
  ...sampling,
  messages: z.array(chatMessage).min(1),
  max_tokens: z.number().int().min(1).nullish(),
  max_completion_tokens: z.number().int().min(1).nullish(),
  stream: z.boolean().nullish(),
  stream_options: z.object({ include_usage: z.boolean().nullish() }).nullish(),
  logprobs: z.boolean().nullish(),
  top_logprobs: z.number().int().min(0).max(20).nullish(),
  /** vLLM: continue the final assistant message instead of starting a new one. */
  continue_final_message: z.boolean().nullish(),
  /** vLLM: open a new assistant turn (the default); false with `continue_final_message`. */
  add_generation_prompt: z.boolean().nullish(),
  /**
   * vLLM: return the log-probability of every prompt token (as the chat template renders the messages),
   * with this many alternatives each, in the response's top-level `prompt_logprobs`.
   */
  prompt_logprobs: z.number().int().min(0).max(20).nullish(),
});

/** A parsed chat completion request. */
export type ChatCompletionRequest = z.output<typeof chatCompletionRequestSchema>;

/** Body of `POST /v1/completions`. */
export const completionRequestSchema = z.object({
  ...sampling,
  prompt: z.union([z.string(), z.array(z.string()).min(1)], {
    error: "must be a string or a non-empty array of strings (token-id prompts are not supported)",
  }),
  max_tokens: z.number().int().min(0).nullish(),
  echo: z.boolean().nullish(),
  logprobs: z.number().int().min(0).max(20).nullish(),
  stream: z.boolean().nullish(),
});

/** A parsed completion request. */
export type CompletionRequest = z.output<typeof completionRequestSchema>;

/** The stop strings of a request as a list. */
export function stopList(value: string | string[] | null | undefined): string[] {
  if (value === null || value === undefined) return [];
  return (typeof value === "string" ? [value] : value).filter((s) => s.length > 0);
}

/** The messages of a chat request in the model contract's shape. */
export function toChatMessages(messages: ChatCompletionRequest["messages"]): ChatMessage[] {
  return messages.map((m) => ({
    role: m.role === "developer" ? "system" : m.role,
    content: typeof m.content === "string" ? m.content : m.content.map((part) => part.text).join("\n"),
  }));
}
