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
  /**
   * How the judge answers: `logprobs` (P(A), P(B) from its log-probabilities), `cot` (it reasons first,
   * then the same, clamped to `clamp`), `verdict` (greedy answer letter: a hard label) or `votes` (`votes`
   * sampled answers). Default `logprobs` when the judge can score choices, else `verdict`.
   */
  readonly mode?: JudgmentMode;
  /** Chain of thought: the band P(A) is clamped to (the paper: 40–60%). Default [0.4, 0.6]. */
  readonly clamp?: readonly [number, number];
  /** Chain of thought: the most tokens of reasoning. Default 256. */
  readonly reasoningTokens?: number;
  /** `votes`: how many sampled answers per order. Default 5. */
  readonly votes?: number;
  /** `votes`: the seed of the first sample (each next one adds 1). Default 0. */
  readonly seed?: number;
  readonly signal?: AbortSignal;
}

/** How a judge answers; see {@link JudgmentContext.mode}. */
export type JudgmentMode = "logprobs" | "cot" | "verdict" | "votes";

/** What a judgment's probabilities come from. */
export type JudgmentMethod = ScoringMethod | "verdict" | "votes";

/** The opening of the judge's turn in chain-of-thought mode. */
export const reasoningOpening = "Let's think step by step:";

/** The judge's answer for one order of the two responses. */
export interface OrderedJudgment {
  /** Which response was shown as (A). */
  readonly shownFirst: "first" | "second";
  /** Normalised P(A) and P(B). */
  readonly pA: number;
  readonly pB: number;
  /** The unnormalised log-probabilities of A and B (log-prob modes). */
  readonly logprobs?: readonly [number, number];
  /** Chain of thought: the judge's reasoning; `cot` also keeps P(A) before clamping. */
  readonly reasoning?: string;
  readonly unclamped?: number;
  /** `verdict` / `votes`: the letters the judge wrote (one, or one per sample; "?" when unreadable). */
  readonly answers?: readonly string[];
}

/** A position-debiased judgment of a pair. */
export interface PairwiseJudgment {
  /** P(first is better): the mean over both orders; exactly 1 − the label of the swapped pair. */
  readonly pFirst: number;
  /** The principle used. */
  readonly principle: string;
  /** The order with `first` as (A), then the order with `second` as (A). */
  readonly orders: readonly [OrderedJudgment, OrderedJudgment];
  /** What the probabilities come from: the backend's scoring method, or `verdict` / `votes` (no log-probs). */
  readonly method: JudgmentMethod;
  /** The mode the judge answered in. */
  readonly mode: JudgmentMode;
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
): { messages: ChatMessage[]; assistantPrefix: string } {
  const cot = context.mode === "cot";
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
    const reasoning = cot && example.reasoning ? `${reasoningOpening} ${example.reasoning}\n` : "";
    messages.push({ role: "assistant", content: `${reasoning}${rendered.answerPrefix}${example.answer})` });
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

/** The judge's answer for one order, without `shownFirst`. */
type OrderAnswer = Omit<OrderedJudgment, "shownFirst"> & { readonly method: JudgmentMethod };

/** The mode a context asks for, resolved against what its judge can do. */
export function judgmentMode(context: JudgmentContext): JudgmentMode {
  const canScore = Boolean(context.judge.scoreChoices && context.judge.capabilities.scoreChoices);
  const mode = context.mode ?? (canScore ? "logprobs" : "verdict");
  if ((mode === "logprobs" || mode === "cot") && !canScore)
    throw new UnsupportedCapabilityError(
      context.judge.provider,
      "scoreChoices",
      `judging in ${mode} mode needs log-probabilities; use mode verdict or votes for this judge`,
    );
  return mode;
}

/** Normalised P(A), P(B) of a scoring prompt. */
async function scoreLetters(context: JudgmentContext, prompt: ScoringPrompt) {
  const scoreChoices = context.judge.scoreChoices?.bind(context.judge);
  if (!scoreChoices) throw new UnsupportedCapabilityError(context.judge.provider, "scoreChoices");
  const scores = await scoreChoices({
    prompt,
    choices: ["A", "B"],
    ...(context.signal ? { signal: context.signal } : {}),
  });
  const [pA = Number.NaN, pB = Number.NaN] = scores.probabilities;
  const [la = Number.NaN, lb = Number.NaN] = scores.logprobs;
  return { pA, pB, logprobs: [la, lb] as const, method: scores.method };
}

/** The answer letter at the start of `text` ("A" or "B"), or "?". */
export function verdictLetter(text: string): string {
  const letter = text.trimStart().charAt(0).toUpperCase();
  return letter === "A" || letter === "B" ? letter : "?";
}

/** One order in `mode`. */
async function askOrder(
  context: JudgmentContext,
  mode: JudgmentMode,
  conversation: readonly ChatMessage[],
  a: string,
  b: string,
): Promise<OrderAnswer> {
  const prompt = comparisonPrompt({ ...context, mode }, conversation, a, b);
  const signal = context.signal ? { signal: context.signal } : {};
  switch (mode) {
    case "logprobs":
      return scoreLetters(context, prompt);
    case "cot": {
      const [low, high] = context.clamp ?? [0.4, 0.6];
      const thought = await context.judge.generate({
        messages: [...prompt.messages, { role: "assistant", content: reasoningOpening }],
        maxTokens: context.reasoningTokens ?? 256,
        temperature: 0,
        stop: [prompt.assistantPrefix.trim()],
        ...signal,
      });
      const reasoning = thought.text.trim();
      const scored = await scoreLetters(context, {
        messages: prompt.messages,
        assistantPrefix: `${reasoningOpening} ${reasoning}\n${prompt.assistantPrefix}`,
      });
      const pA = Math.min(high, Math.max(low, scored.pA));
      return { ...scored, pA, pB: 1 - pA, unclamped: scored.pA, reasoning };
    }
    case "verdict":
    case "votes": {
      const samples = mode === "verdict" ? 1 : (context.votes ?? 5);
      const answers: string[] = [];
      for (let i = 0; i < samples; i += 1) {
        const reply = await context.judge.generate({
          messages: [...prompt.messages, { role: "assistant", content: prompt.assistantPrefix }],
          maxTokens: 2,
          ...(mode === "verdict" ? { temperature: 0 } : { temperature: 1, seed: (context.seed ?? 0) + i }),
          ...signal,
        });
        answers.push(verdictLetter(reply.text));
      }
      const read = answers.filter((x) => x !== "?");
      const pA = read.length === 0 ? 0.5 : read.filter((x) => x === "A").length / read.length;
      return { pA, pB: 1 - pA, answers, method: mode };
    }
  }
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
      mode: swapped.mode,
    };
  }
  const mode = judgmentMode(context);
  const { method, ...forward } = await askOrder(context, mode, pair.conversation, pair.first, pair.second);
  const { method: _, ...backward } = await askOrder(
    context,
    mode,
    pair.conversation,
    pair.second,
    pair.first,
  );
  return {
    pFirst: (forward.pA + backward.pB) / 2,
    principle: context.principle.id,
    orders: [
      { shownFirst: "first", ...forward },
      { shownFirst: "second", ...backward },
    ],
    method,
    mode,
  };
}
