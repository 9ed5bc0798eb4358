// The log-probabilities of a prompt's own tokens, as the routes report them: vLLM's `prompt_logprobs`
// list for chat, and the scores behind `/v1/completions` echo. Only positions from `from` on are scored
// (earlier ones are `null`), so a client asking for a prompt's last tokens pays for those alone.
import type { Token } from "node-llama-cpp";
import type { LlamaLanguageModel } from "../models/llama/llama-language-model.js";
import type { ChatMessage } from "../models/model.js";
import { finiteLogprob } from "./logprobs-format.js";

/** A scored prompt position: the token's log-probability given the tokens before it, and the best alternatives. */
export interface PromptTokenScore {
  logprob: number;
  top: Array<{ token: Token; logprob: number }>;
}

/**
 * The llama backend's prompt scoring with a window: `from` tells it which positions are wanted, so it can
 * skip the others' full-vocabulary distributions. A backend whose `promptLogprobs` does not take the
 * option scores every position; the nulls below still make the answer the same.
 */
type WindowedPromptLogprobs = (
  tokens: Token[],
  top: number,
  signal?: AbortSignal,
  options?: { from?: number },
) => Promise<Array<PromptTokenScore | null>>;

/**
 * Scores of `tokens` after the first, each given all before it; positions before `from` (and the first,
 * conditioned on nothing) are null.
 */
export async function scorePromptTokens(
  model: LlamaLanguageModel,
  tokens: Token[],
  top: number,
  from: number,
  signal: AbortSignal,
): Promise<Array<PromptTokenScore | null>> {
  if (tokens.length <= 1 || from >= tokens.length) return tokens.map(() => null);
  const score: WindowedPromptLogprobs = model.promptLogprobs.bind(model);
  const scored = await score(tokens, top, signal, { from });
  return scored.map((entry, i) => (i < from ? null : entry));
}

/** One prompt position of vLLM's `prompt_logprobs`: token id → its log-probability (and rank when known). */
export type PromptLogprobEntry = Record<string, { logprob: number; rank?: number; decoded_token: string }>;

/**
 * vLLM's `prompt_logprobs` for a chat request: the messages rendered as the model sees them (a final
 * assistant message continued), then for each token from `from` on (the first never) its log-probability
 * given the tokens before it, and the `top` most likely alternatives (`rank` 1…top; the prompt token's
 * rank is given when it is among them); and how many tokens the prompt has.
 */
export async function chatPromptLogprobs(
  model: LlamaLanguageModel,
  messages: ChatMessage[],
  top: number,
  from: number,
  signal: AbortSignal,
): Promise<{ entries: Array<PromptLogprobEntry | null>; tokenCount: number }> {
  const tokens = model.prompts.chatTokens(messages);
  const scored = await scorePromptTokens(model, tokens, top, from, signal);
  const decoded = (token: Token) => model.detokenize([token], { special: true });
  const entries = scored.map((entry, i) => {
    const token = tokens[i];
    if (entry === null || token === undefined) return null;
    const result: PromptLogprobEntry = {};
    entry.top.forEach((alternative, k) => {
      result[String(alternative.token)] = {
        logprob: finiteLogprob(alternative.logprob),
        rank: k + 1,
        decoded_token: decoded(alternative.token),
      };
    });
    const rank = entry.top.findIndex((alternative) => alternative.token === token);
    result[String(token)] = {
      logprob: finiteLogprob(entry.logprob),
      ...(rank >= 0 ? { rank: rank + 1 } : {}),
      decoded_token: decoded(token),
    };
    return result;
  });
  return { entries, tokenCount: tokens.length };
}
