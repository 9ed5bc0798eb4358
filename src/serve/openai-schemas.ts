// Zod schemas of the OpenAI request bodies this server accepts (`/v1/chat/completions`, `/v1/completions`):
// every field of the official SDK's request types is either implemented or refused by name (see
// request-fields.ts), and a field no schema knows is a 400 naming it. `null` counts as absent.
import { z } from "zod";
import type { ChatMessage, OutputFormat } from "../models/model.js";
import { bookkeeping, emptyArray, emptyObject, oneOf, refused } from "./request-fields.js";

const noTools = "cai serve does not call tools or functions; send none";
const noAudio = "cai serve reads and writes text only";

const textPart = z.strictObject({
  type: z.literal("text", { error: "only text content parts are supported" }),
  text: z.string(),
  /** A prompt-cache hint: cai keeps its own prefix cache. */
  prompt_cache_breakpoint: bookkeeping(),
});

/** Message content: a string, or text parts (joined with newlines, as vLLM does). */
const chatContent = z.union([z.string(), z.array(textPart)], {
  error: 'must be a string or an array of {type: "text", text} parts',
});

const chatMessage = z.strictObject({
  // `developer` is OpenAI's newer name for `system`.
  role: z.enum(["system", "developer", "user", "assistant"], {
    error: (issue) =>
      issue.input === "tool" || issue.input === "function"
        ? `${String(issue.input)} messages are not supported: ${noTools}`
        : 'must be one of "system", "developer", "user", "assistant"',
  }),
  content: chatContent,
  name: refused("speaker names are not supported: the chat template has no place for them"),
  tool_calls: refused(noTools, emptyArray),
  function_call: refused(noTools),
  tool_call_id: refused(noTools),
  audio: refused(noAudio),
  refusal: refused("assistant refusals are not supported; put the text in content"),
});

/** A chat request's messages. */
export const chatMessagesSchema = z.array(chatMessage).min(1);

/** Stop strings: one, or several. */
const stop = z.union([z.string(), z.array(z.string()).max(16)]).nullish();

const streamOptions = z
  .strictObject({
    include_usage: z.boolean().nullish(),
    include_obfuscation: refused("stream obfuscation is not implemented; send false", oneOf(false)),
  })
  .nullish();

/** Fields both endpoints share: sampling, and what neither implements. */
const common = {
  model: z.string().nullish(),
  temperature: z.number().min(0).max(2).nullish(),
  top_p: z.number().min(0).max(1).nullish(),
  seed: z.number().int().nullish(),
  stop,
  n: z.literal(1, { error: "only n = 1 is supported" }).nullish(),
  stream: z.boolean().nullish(),
  stream_options: streamOptions,
  user: bookkeeping(),
  frequency_penalty: refused("frequency penalties are not implemented; send 0", oneOf(0)),
  presence_penalty: refused("presence penalties are not implemented; send 0", oneOf(0)),
  logit_bias: refused("logit biases are not implemented; send none", emptyObject),
};

/** OpenAI's `response_format`: plain text, any JSON object, or JSON matching a schema. */
const responseFormat = z
  .discriminatedUnion(
    "type",
    [
      z.strictObject({ type: z.literal("text") }),
      z.strictObject({ type: z.literal("json_object") }),
      z.strictObject({
        type: z.literal("json_schema"),
        json_schema: z.strictObject({
          name: z.string().min(1).max(64),
          description: z.string().nullish(),
          schema: z.record(z.string(), z.unknown()).nullish(),
          strict: z.boolean().nullish(),
        }),
      }),
    ],
    { error: 'must be {type: "text"}, {type: "json_object"} or {type: "json_schema", json_schema}' },
  )
  .nullish();

/** Body of `POST /v1/chat/completions`. */
export const chatCompletionRequestSchema = z.strictObject({
  ...common,
  messages: chatMessagesSchema,
  /** 0 only with `prompt_logprobs` (the prompt scored, nothing generated), as `/v1/completions` echo allows. */
  max_tokens: z.number().int().min(0).nullish(),
  max_completion_tokens: z.number().int().min(0).nullish(),
  logprobs: z.boolean().nullish(),
  top_logprobs: z.number().int().min(0).max(20).nullish(),
  response_format: responseFormat,
  /** vLLM: continue the final assistant message instead of starting a new one. */
  continue_final_message: z.boolean().nullish(),
  /** vLLM: open a new assistant turn (the default); false with `continue_final_message`. */
  add_generation_prompt: z.boolean().nullish(),
  /**
   * vLLM: return the log-probability of every prompt token (as the chat template renders the messages),
   * with this many alternatives each, in the response's top-level `prompt_logprobs`.
   */
  prompt_logprobs: z.number().int().min(0).max(20).nullish(),
  /**
   * cai's extension of `prompt_logprobs`: score only the prompt positions from this token index on
   * (earlier ones are `null`, as the first always is), so a client that needs the last few tokens' log-
   * probabilities does not pay for the whole prompt's. Servers without it (vLLM) ignore it and list all.
   */
  prompt_logprobs_from: z.number().int().min(0).nullish(),
  // Bookkeeping of OpenAI's own: no effect on what is generated.
  metadata: bookkeeping(),
  safety_identifier: bookkeeping(),
  prompt_cache_key: bookkeeping(),
  prompt_cache_retention: bookkeeping(),
  prompt_cache_options: bookkeeping(),
  service_tier: refused("only the default service tier exists here", oneOf("auto", "default")),
  store: refused("stored completions are not implemented; send false", oneOf(false)),
  // Only meaningful with tools, which are refused.
  parallel_tool_calls: z.boolean().nullish(),
  tools: refused(noTools, emptyArray),
  tool_choice: refused(noTools, oneOf("none")),
  functions: refused(noTools, emptyArray),
  function_call: refused(noTools, oneOf("none")),
  modalities: refused(
    noAudio,
    (value) => emptyArray(value) || (Array.isArray(value) && value.every((m) => m === "text")),
  ),
  audio: refused(noAudio),
  prediction: refused("predicted outputs are not implemented"),
  reasoning_effort: refused("the served models do not reason before answering", oneOf("none")),
  verbosity: refused("verbosity is not implemented"),
  web_search_options: refused("web search is not implemented"),
  moderation: refused("moderated completions are not implemented"),
});

/** A parsed chat completion request. */
export type ChatCompletionRequest = z.output<typeof chatCompletionRequestSchema>;

/** Body of `POST /v1/completions`. */
export const completionRequestSchema = z.strictObject({
  ...common,
  prompt: z.union([z.string(), z.array(z.string()).min(1)], {
    error: "must be a string or a non-empty array of strings (token-id prompts are not supported)",
  }),
  max_tokens: z.number().int().min(0).nullish(),
  echo: z.boolean().nullish(),
  logprobs: z.number().int().min(0).max(20).nullish(),
  best_of: z.literal(1, { error: "only best_of = 1 is supported" }).nullish(),
  suffix: refused("insertion (suffix) is not implemented", oneOf("")),
});

/** A parsed completion request. */
export type CompletionRequest = z.output<typeof completionRequestSchema>;

/** The stop strings of a request as a list. */
export function stopList(value: string | string[] | null | undefined): string[] {
  if (value === null || value === undefined) return [];
  return (typeof value === "string" ? [value] : value).filter((s) => s.length > 0);
}

/** The messages of a chat request in the model contract's shape. */
export function toChatMessages(messages: z.output<typeof chatMessagesSchema>): ChatMessage[] {
  return messages.map((m) => ({
    role: m.role === "developer" ? "system" : m.role,
    content: typeof m.content === "string" ? m.content : m.content.map((part) => part.text).join("\n"),
  }));
}

/** The output format a chat request asks for (none for plain text). */
export function outputFormatOf(body: ChatCompletionRequest): OutputFormat | undefined {
  const format = body.response_format;
  if (!format || format.type === "text") return undefined;
  if (format.type === "json_object") return { type: "json_object" };
  const { name, schema, strict } = format.json_schema;
  // OpenAI: a json_schema format without a schema allows any JSON object.
  if (!schema) return { type: "json_object" };
  return {
    type: "json_schema",
    schema,
    name,
    ...(strict !== null && strict !== undefined ? { strict } : {}),
  };
}
