// Choice scores read from the alternatives a server lists for the next token (`top_logprobs`): exact
// where every choice is one listed token, else an estimate for the choices the list leaves out.
import { UnsupportedCapabilityError } from "../errors/unsupported-capability-error.js";
import type { ChoiceScores, ScoreChoicesOptions } from "../model.js";
import { normaliseLogprobs } from "../scoring.js";

/** One listed alternative for the next token. */
export interface TopToken {
  token: string;
  logprob: number;
}

/**
 * The log-probability of each choice when every choice is exactly the text of one listed token, and of
 * only one (two tokens with the same text — a byte-fallback token beside a character's — leave it
 * unclear which the model would write); undefined otherwise.
 */
export function exactFromTop(top: readonly TopToken[], choices: readonly string[]): number[] | undefined {
  const logprobs: number[] = [];
  for (const choice of choices) {
    const listed = top.filter((t) => t.token === choice);
    const [only] = listed;
    if (listed.length !== 1 || !only) return undefined;
    logprobs.push(only.logprob);
  }
  return logprobs;
}

/**
 * Choice scores from a next-token alternatives list. A choice matches a listed token equal to it (or
 * to it with surrounding spaces); a choice not listed gets the unlisted probability mass shared among
 * such choices, capped at the least likely listed token's probability.
 */
export function choicesFromTop(
  top: readonly TopToken[],
  choices: ScoreChoicesOptions["choices"],
): ChoiceScores {
  if (top.length === 0) {
    throw new UnsupportedCapabilityError("openai", "score choices", "the server returned no top_logprobs");
  }
  const found = choices.map((choice) => {
    const listed = top.find((t) => t.token === choice) ?? top.find((t) => t.token.trim() === choice.trim());
    return listed?.logprob;
  });
  const listedMass = top.reduce((sum, t) => sum + Math.exp(t.logprob), 0);
  const missing = found.filter((lp) => lp === undefined).length;
  const floor = Math.min(...top.map((t) => t.logprob));
  const share = missing > 0 ? Math.log(Math.max(1 - listedMass, 0) / missing) : floor;
  const logprobs = found.map((lp) => lp ?? Math.min(share, floor));
  return { probabilities: normaliseLogprobs(logprobs), logprobs, method: "top-logprobs" };
}
