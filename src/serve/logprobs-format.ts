// Log-probabilities in OpenAI's two wire formats: chat's `logprobs.content` list and the legacy
// completions' parallel arrays (`tokens`, `token_logprobs`, `top_logprobs`, `text_offset`).
import type { TokenLogprob } from "../models/model.js";

/**
 * JSON has no −Infinity (a probability that underflowed to 0 in float32): report OpenAI's floor
 * instead, which every client reads as "practically impossible".
 */
export const logprobFloor = -9999;

/** A log-probability JSON can carry. */
export function finiteLogprob(logprob: number): number {
  return Number.isNaN(logprob) ? logprobFloor : Math.max(logprob, logprobFloor);
}

/** UTF-8 bytes of a token's text (for U+FFFD pieces of split characters, those of U+FFFD). */
function utf8Bytes(text: string): number[] {
  return [...Buffer.from(text, "utf8")];
}

/** One entry of chat's `logprobs.content`. */
export interface ChatTokenLogprob {
  token: string;
  logprob: number;
  bytes: number[];
  top_logprobs: Array<{ token: string; logprob: number; bytes: number[] }>;
}

/** Chat's `logprobs` object for generated tokens. */
export function chatLogprobs(logprobs: readonly TokenLogprob[]): { content: ChatTokenLogprob[] } {
  return {
    content: logprobs.map((t) => ({
      token: t.token,
      logprob: finiteLogprob(t.logprob),
      bytes: utf8Bytes(t.token),
      top_logprobs: t.top.map((alt) => ({
        token: alt.token,
        logprob: finiteLogprob(alt.logprob),
        bytes: utf8Bytes(alt.token),
      })),
    })),
  };
}

/** The `logprobs` of one `/v1/completions` choice. */
export interface CompletionLogprobs {
  tokens: string[];
  token_logprobs: Array<number | null>;
  top_logprobs: Array<Record<string, number> | null>;
  text_offset: number[];
}

/** One token of a completion, with what is known of its probability (nothing for the first prompt token). */
export interface ScoredToken {
  text: string;
  scored: { logprob: number; top: Array<{ token: string; logprob: number }> } | null;
}

/**
 * The legacy `top_logprobs` entry of a token: the `top` alternatives, most likely first, and the
 * chosen token itself (so up to `logprobs + 1` entries, as OpenAI documents). Tokens with the same
 * text (e.g. a byte token and a character token) share one key, holding the more likely one.
 */
function topLogprobMap(
  chosen: string,
  logprob: number,
  top: ReadonlyArray<{ token: string; logprob: number }>,
): Record<string, number> {
  const entries = new Map<string, number>();
  for (const alt of top) if (!entries.has(alt.token)) entries.set(alt.token, finiteLogprob(alt.logprob));
  if (!entries.has(chosen)) entries.set(chosen, finiteLogprob(logprob));
  return Object.fromEntries(entries);
}

/** The legacy completion `logprobs` of `tokens`, whose texts start at `offsets` of the choice's text. */
export function completionLogprobs(
  tokens: readonly ScoredToken[],
  offsets: readonly number[],
): CompletionLogprobs {
  return {
    tokens: tokens.map((t) => t.text),
    token_logprobs: tokens.map((t) => (t.scored ? finiteLogprob(t.scored.logprob) : null)),
    top_logprobs: tokens.map((t) =>
      t.scored ? topLogprobMap(t.text, t.scored.logprob, t.scored.top) : null,
    ),
    text_offset: [...offsets],
  };
}
