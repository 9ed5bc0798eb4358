// vLLM's `POST /tokenize` for the llama.cpp models of this server: a prompt's
// tokens (raw text, or chat messages rendered as the chat route renders them) without running the model,
// so a client can see where its text's tokens fall (cai's `openai:` backend uses it to split a chat
// prompt from the choices it scores, as the in-process backend does).
import type { FastifyInstance } from "fastify";
import type { Token } from "node-llama-cpp";
import { z } from "zod";
import { chatMessagesSchema, toChatMessages } from "./openai-schemas.js";
import { parseBody } from "./parse-body.js";
import { assertContinuable, tokenizingModel } from "./request-checks.js";
import { refused } from "./request-fields.js";
import type { ServerContext } from "./server-context.js";

const tokenizeRequestSchema = z.union(
  [
    z.strictObject({
      model: z.string().nullish(),
      prompt: z.string(),
      /** Default true: the BOS token first, when the model uses one. */
      add_special_tokens: z.boolean().nullish(),
      return_token_strs: z.boolean().nullish(),
    }),
    z.strictObject({
      model: z.string().nullish(),
      messages: chatMessagesSchema,
      /** The assistant's turn is always opened (a final assistant message continued), as the chat route does. */
      add_generation_prompt: z.boolean().nullish(),
      continue_final_message: z.boolean().nullish(),
      add_special_tokens: refused(
        "the chat template places the special tokens itself; send false",
        (v) => v === false,
      ),
      return_token_strs: z.boolean().nullish(),
    }),
  ],
  { error: "send {prompt} or {messages}" },
);

/** Registers the route. `token_strs` are each token's text decoded alone (special tokens included). */
export function registerTokenizeRoute(app: FastifyInstance, context: ServerContext): void {
  app.post("/tokenize", async (request) => {
    const body = parseBody(tokenizeRequestSchema, request.body);
    const { model } = tokenizingModel(context, body.model);
    let tokens: Token[];
    if ("messages" in body) {
      const messages = toChatMessages(body.messages);
      if (body.continue_final_message) assertContinuable(messages);
      tokens = model.prompts.chatTokens(messages);
    } else {
      tokens = model.prompts.textTokens(body.prompt);
      // Without special tokens: drop the BOS the renderer puts before every text.
      if (body.add_special_tokens === false) tokens = tokens.slice(model.prompts.textTokens("").length);
    }
    const contextSize = (await model.info()).contextSize ?? null;
    return {
      count: tokens.length,
      max_model_len: contextSize,
      tokens,
      ...(body.return_token_strs
        ? { token_strs: tokens.map((t) => model.detokenize([t], { special: true })) }
        : {}),
    };
  });
}
