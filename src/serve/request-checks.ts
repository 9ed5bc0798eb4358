// Checks more than one route makes of a request: that the model it names has a tokenizer this server
// holds, and that a message list to be continued ends with the assistant's turn.
import { LlamaLanguageModel } from "../models/llama/llama-language-model.js";
import type { ChatMessage } from "../models/model.js";
import { ApiError } from "./openai-errors.js";
import type { ServerContext } from "./server-context.js";

/** The `llama:` model a request names (tokenizing needs the model's own tokenizer), else a 400. */
export function tokenizingModel(
  context: ServerContext,
  requested: string | null | undefined,
): { name: string; model: LlamaLanguageModel } {
  const { name, model } = context.models.resolve(requested);
  if (!(model instanceof LlamaLanguageModel))
    throw new ApiError(
      400,
      `model: ${name} is a ${model.provider} model, whose tokenizer this server does not have`,
      "invalid_request_error",
      "unsupported_model",
      "model",
    );
  return { name, model };
}

/** A 400 unless the last message is the assistant's (vLLM's `continue_final_message`). */
export function assertContinuable(messages: readonly ChatMessage[]): void {
  if (messages[messages.length - 1]?.role !== "assistant")
    throw new ApiError(
      400,
      "continue_final_message: the last message must be the assistant's, to be continued",
      "invalid_request_error",
      "invalid_value",
      "continue_final_message",
    );
}
