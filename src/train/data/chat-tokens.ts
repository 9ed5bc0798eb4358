// Chat conversations into SFT examples, tokenised exactly as inference renders them: the model's own chat
// template (node-llama-cpp's chat wrapper, via LlamaPromptRenderer), with the loss on the final assistant
// message only.
//
// End of turn: the renderer leaves the final assistant turn open (as generation sees it while writing), so
// the learned tokens are the answer's text alone, without the template's end-of-turn token. Pass
// `endOfTurn` (e.g. the model's EOT token) to append and learn it too, so the model learns to stop.
import { CaiError } from "../../errors/cai-error.js";
import type { LlamaPromptRenderer } from "../../models/llama/llama-prompt.js";
import type { ChatMessage } from "../../models/model.js";
import type { SftExample } from "../objectives/sft.js";

/** Options of {@link sftExampleFromMessages}. */
export interface ChatExampleOptions {
  /** Tokens appended after the answer and learned (mask 1), e.g. the end-of-turn token. Default none. */
  readonly endOfTurn?: readonly number[];
}

/**
 * The SFT example of a conversation that ends in an assistant message: the tokens of the whole
 * conversation as inference renders it, with loss mask 1 exactly on the tokens of that final message
 * (and on `options.endOfTurn`). The context is `renderer.chatTokens(earlier messages)`, i.e. what
 * generation sees before writing the answer; the answer's tokens are those the joint rendering adds
 * after it, or — where the joint tokenisation merges across the boundary — the answer tokenised on its own.
 * An empty final message is an answer too (the model stopping at once: preference pairs keep such
 * answers): its example learns `options.endOfTurn` alone. Throws when the conversation does not end in
 * an assistant message, or ends in an empty one with no end-of-turn tokens to learn.
 */
export function sftExampleFromMessages(
  renderer: LlamaPromptRenderer,
  messages: readonly ChatMessage[],
  options: ChatExampleOptions = {},
): SftExample {
  const last = messages[messages.length - 1];
  if (last?.role !== "assistant")
    throw new CaiError("an SFT conversation must end with an assistant message");
  const end = options.endOfTurn ?? [];
  if (last.content === "" && end.length === 0)
    throw new CaiError("the final assistant message of an SFT conversation is empty");
  const earlier = messages.slice(0, -1);
  const prefix = renderer.chatTokens(earlier, "");
  if (last.content === "")
    return { tokens: [...prefix, ...end], lossMask: [...prefix.map(() => 0), ...end.map(() => 1)] };
  const full = renderer.chatTokens(earlier, last.content);
  const aligned = full.length > prefix.length && prefix.every((token, i) => full[i] === token);
  const answer: number[] = aligned ? full.slice(prefix.length) : answerAlone(renderer, last.content);
  if (answer.length === 0) throw new CaiError("the final assistant message has no tokens");
  const tokens = [...prefix, ...answer, ...end];
  const lossMask = tokens.map((_, i) => (i >= prefix.length ? 1 : 0));
  return { tokens, lossMask };
}

/** The tokens of `text` on its own (no BOS). */
function answerAlone(renderer: LlamaPromptRenderer, text: string): number[] {
  const bos = renderer.textTokens("").length;
  return renderer.textTokens(text).slice(bos);
}
