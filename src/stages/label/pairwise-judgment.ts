// The pairwise judgment at the heart of AI feedback and of evaluation: a judge model is shown a
// conversation and two responses as a multiple-choice question under one comparison principle (the
// paper's layout, the constitution's few-shot examples before it), and P(A), P(B) are read from its
// log-probabilities of the answer letter. Both orders are asked and averaged, which removes the judge's
// position bias from the label; the raw numbers of each order are kept.
import type { ComparisonExample, ComparisonPrinciple } from "../../constitution/constitution-schema.js";
import { renderConversation, splitAnswerPrefix, type TurnRenderers } from "../../constitution/templates.js";
import { UnsupportedCapabilityError } from "../../models/errors/unsupported-capability-error.js";
import type { ChatMessage, LanguageModel, ScoringMethod, ScoringPrompt } from "../../models/model.js";

/** Two responses to one conversation. */
export interface ResponsePair {
  /** The conversation the responses answer (ends with the user's turn). */
  readonly conversation: readonly ChatMessage[];
  readonly first: string;
  readonly second: string;
}

/** What the judge is asked with. */
export interface JudgmentContext {
  readonly judge: LanguageModel;
  /** The constitution's templates (the comparison question). */
  readonly renderers: TurnRenderers;
  /** The principle the pair is compared under. */
  readonly principle: ComparisonPrinciple;
  /** Worked examples placed before the question (few-shot); an example's own principle is used when known. */
  readonly examples?: readonly ComparisonExample[];
  /** The constitution's comparison principles, to find an example's principle by id. */
  readonly principles?: readonly ComparisonPrinciple[];
  readonly signal?: AbortSignal;
}

/** The judge's answer for one order of the two responses. */
export interface OrderedJudgment {
  /** Which response was shown as (A). */
  readonly shownFirst: "first" | "second";
  /** Normalised P(A) and P(B). */
  readonly pA: number;
  readonly pB: number;
  /** The unnormalised log-probabilities of A and B. */
  readonly logprobs: readonly [number, number];
}

/** A position-debiased judgment of a pair. */
export interface PairwiseJudgment {
  /** P(first is better): the mean over both orders; exactly 1 − the label of the swapped pair. */
  readonly pFirst: number;
  /** The principle used. */
  readonly principle: string;
  /** The order with `first` as (A), then the order with `second` as (A). */
  readonly orders: readonly [OrderedJudgment, OrderedJudgment];
  /** How the judge's backend scored the letters. */
  readonly method: ScoringMethod;
}

/**
 * The scoring prompt for responses `a` and `b` under `context.principle`: the few-shot examples as earlier
 * chat turns (their question as the user's turn, "The answer is: (X)" as the judge's), then the question,
 * with the judge's turn opened by the template's last line so the next token is the letter.
 */
export function comparisonPrompt(
  context: JudgmentContext,
  conversation: readonly ChatMessage[],
  a: string,
  b: string,
): ScoringPrompt {
  const { renderers } = context;
  const questionOf = (id: string | undefined): string =>
    context.principles?.find((p) => p.id === id)?.question ?? context.principle.question;
  const messages: ChatMessage[] = [];
  for (const example of context.examples ?? []) {
    const rendered = splitAnswerPrefix(
      renderers.comparison({
        conversation: renderConversation(example.prompt),
        question: questionOf(example.principle),
        responseA: example.a,
        responseB: example.b,
      }),
    );
    messages.push({ role: "user", content: rendered.question });
    messages.push({ role: "assistant", content: `${rendered.answerPrefix}${example.answer})` });
  }
  const rendered = splitAnswerPrefix(
    renderers.comparison({
      conversation: renderConversation(conversation),
      question: context.principle.question,
      responseA: a,
      responseB: b,
    }),
  );
  messages.push({ role: "user", content: rendered.question });
  return { messages, assistantPrefix: rendered.answerPrefix };
}

/** P(A), P(B) of one order. */
async function askOnce(
  context: JudgmentContext,
  conversation: readonly ChatMessage[],
  a: string,
  b: string,
): Promise<{ pA: number; pB: number; logprobs: [number, number]; method: ScoringMethod }> {
  const { judge } = context;
  if (!judge.scoreChoices || !judge.capabilities.scoreChoices)
    throw new UnsupportedCapabilityError(judge.provider, "scoreChoices");
  const scores = await judge.scoreChoices({
    prompt: comparisonPrompt(context, conversation, a, b),
    choices: ["A", "B"],
    ...(context.signal ? { signal: context.signal } : {}),
  });
  const [pA = Number.NaN, pB = Number.NaN] = scores.probabilities;
  const [la = Number.NaN, lb = Number.NaN] = scores.logprobs;
  return { pA, pB, logprobs: [la, lb], method: scores.method };
}

/**
 * Judges `pair` in both orders and averages: P(first better) = (P(A | first shown as A) + P(B | first
 * shown as B)) / 2. The two responses are always asked in one canonical order (by string), and the label
 * of the other order is its complement, so judging (y, x) gives exactly 1 − the label of (x, y).
 */
export async function judgePair(pair: ResponsePair, context: JudgmentContext): Promise<PairwiseJudgment> {
  if (pair.second < pair.first) {
    const swapped = await judgePair(
      { conversation: pair.conversation, first: pair.second, second: pair.first },
      context,
    );
    const [asked, reversed] = swapped.orders;
    return {
      pFirst: 1 - swapped.pFirst,
      principle: swapped.principle,
      orders: [
        { ...reversed, shownFirst: "first" },
        { ...asked, shownFirst: "second" },
      ],
      method: swapped.method,
    };
  }
  const forward = await askOnce(context, pair.conversation, pair.first, pair.second);
  const backward = await askOnce(context, pair.conversation, pair.second, pair.first);
  return {
    pFirst: (forward.pA + backward.pB) / 2,
    principle: context.principle.id,
    orders: [
      { shownFirst: "first", pA: forward.pA, pB: forward.pB, logprobs: forward.logprobs },
      { shownFirst: "second", pA: backward.pA, pB: backward.pB, logprobs: backward.logprobs },
    ],
    method: forward.method,
  };
}
