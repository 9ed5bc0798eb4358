// Zod schemas of the Anthropic Messages API request bodies this server accepts (`/v1/messages` and
// `/v1/messages/count_tokens`, text only) and their conversion to the model contract's messages. Every
// field of the official SDK's params is implemented or refused by name (request-fields.ts); a field no
// schema knows is a 400 naming it.
import { z } from "zod";
import type { ChatMessage, OutputFormat } from "../models/model.js";
import { bookkeeping, emptyArray, oneOf, refused } from "./request-fields.js";

const noTools = "cai serve does not call tools; send none";

const textBlock = z.strictObject({
  type: z.literal("text", { error: "only text content blocks are supported" }),
  text: z.string(),
  /** A prompt-cache hint: cai keeps its own prefix cache. */
  cache_control: bookkeeping(),
  citations: refused("citations are not implemented", emptyArray),
});

/** Content: a string, or text blocks (joined with newlines). */
const content = z.union([z.string(), z.array(textBlock)], {
  error: 'must be a string or an array of {type: "text", text} blocks',
});

const message = z.strictObject({ role: z.enum(["user", "assistant"]), content });

/** `output_config`: a JSON Schema the answer must match; no reasoning effort (the models do not reason). */
const outputConfig = z
  .strictObject({
    effort: refused("the served models do not reason before answering"),
    format: z
      .strictObject({
        type: z.literal("json_schema"),
        schema: z.record(z.string(), z.unknown()),
      })
      .nullish(),
  })
  .nullish();

/** What `messages.create` and `messages.countTokens` share: the conversation and what shapes it. */
const conversation = {
  model: z.string().nullish(),
  messages: z.array(message).min(1),
  system: content.nullish(),
  output_config: outputConfig,
  cache_control: bookkeeping(),
  user_profile_id: bookkeeping(),
  workspace_id: bookkeeping(),
  speed: refused("only the standard speed exists here", oneOf("standard")),
  thinking: refused(
    'the served models do not think before answering; send {type: "disabled"}',
    (value) =>
      typeof value === "object" && value !== null && (value as { type?: unknown }).type === "disabled",
  ),
  tools: refused(noTools, emptyArray),
  tool_choice: refused(
    noTools,
    (value) => typeof value === "object" && value !== null && (value as { type?: unknown }).type === "none",
  ),
};

/** Body of `POST /v1/messages`. */
export const messagesRequestSchema = z.strictObject({
  ...conversation,
  max_tokens: z.number().int().min(1),
  temperature: z.number().min(0).max(1).nullish(),
  top_p: z.number().min(0).max(1).nullish(),
  top_k: refused("top-k sampling is not implemented; use temperature or top_p"),
  stop_sequences: z.array(z.string()).max(16).nullish(),
  stream: z.boolean().nullish(),
  metadata: bookkeeping(),
  inference_geo: bookkeeping(),
  diagnostics: bookkeeping(),
  service_tier: refused("only the standard service tier exists here", oneOf("auto", "standard_only")),
  container: refused("code-execution containers are not implemented"),
});

/** A parsed Messages API request. */
export type MessagesRequest = z.output<typeof messagesRequestSchema>;

/** Body of `POST /v1/messages/count_tokens`. */
export const countTokensRequestSchema = z.strictObject(conversation);

/** A parsed token-count request. */
export type CountTokensRequest = z.output<typeof countTokensRequestSchema>;

function text(value: z.output<typeof content>): string {
  return typeof value === "string" ? value : value.map((block) => block.text).join("\n");
}

/** The conversation in the model contract's shape: the system prompt first, when there is one. */
export function toChatMessages(body: CountTokensRequest): ChatMessage[] {
  const system = body.system === null || body.system === undefined ? "" : text(body.system);
  return [
    ...(system ? [{ role: "system" as const, content: system }] : []),
    ...body.messages.map((m) => ({ role: m.role, content: text(m.content) })),
  ];
}

/** The output format a request asks for (none for free text). */
export function outputFormatOf(body: CountTokensRequest): OutputFormat | undefined {
  const format = body.output_config?.format;
  return format ? { type: "json_schema", schema: format.schema } : undefined;
}
