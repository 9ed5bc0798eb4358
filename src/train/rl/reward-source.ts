// Where RL-CAI's rewards come from, behind one interface that scores a prompt's group of sampled answers:
// the preference model of `cai train rm` (distilled RLAIF, the paper), an AI judge asked directly
// (d-RLAIF: every pair in the group judged by log-probs in both orders under a drawn comparison principle,
// a sample's reward its mean win probability in the group), or a function (rules, tests, a user's own).
import type { Constitution } from "../../constitution/constitution-schema.js";
import { turnRenderers } from "../../constitution/templates.js";
import type { ChatMessage, LanguageModel } from "../../models/model.js";
import { SeededRandom } from "../../random/seeded-random.js";
import { ensembleJudgment } from "../../stages/label/ensemble-judgment.js";
import type { JudgmentMode } from "../../stages/label/pairwise-judgment.js";
import type { RewardModel } from "../reward/load-reward-model.js";

/** Scores the answers sampled for one prompt. */
export interface RewardSource {
  /** Everything that changes the scores (recorded in checkpoints: a resume with another is refused). */
  readonly fingerprint: string;
  /**
   * The reward of each answer in `answers` (all to `conversation`, which ends with the user's turn).
   * `seed` fixes any random draw (a judge's principles), so a resumed run scores as the first one did.
   */
  scoreGroup(
    conversation: readonly ChatMessage[],
    answers: readonly string[],
    seed: number,
  ): Promise<number[]>;
}

/**
 * A reward source from a preference model (`reward:DIR`, `loadRewardModel`): its score of each answer. A
 * preference model scores no empty answer (a sampler may end the turn at once): an empty answer gets the
 * lowest score of its group's other answers — no answer is better than any answer — or 0 in a group of
 * empty answers.
 */
export function rewardModelSource(model: RewardModel): RewardSource {
  return {
    fingerprint: model.fingerprint,
    async scoreGroup(conversation, answers) {
      const given = answers.filter((answer) => answer !== "");
      const conversations = given.map((answer) => [
        ...conversation,
        { role: "assistant" as const, content: answer },
      ]);
      let scores: number[] = [];
      if (model.scoreMany) scores = conversations.length > 0 ? await model.scoreMany(conversations) : [];
      else for (const c of conversations) scores.push(await model.score(c));
      const floor = scores.length > 0 ? Math.min(...scores) : 0;
      let next = 0;
      return answers.map((answer) => (answer === "" ? floor : (scores[next++] as number)));
    },
  };
}

/** A reward function of one answer: a rule, a synthetic task, a user's own scorer. */
export type AnswerReward = (conversation: readonly ChatMessage[], answer: string) => number | Promise<number>;

/** A reward source from a function of each answer; `name` identifies it in checkpoints. */
export function functionRewardSource(name: string, reward: AnswerReward): RewardSource {
  return {
    fingerprint: `function:${name}`,
    async scoreGroup(conversation, answers) {
      const scores: number[] = [];
      for (const answer of answers) scores.push(await reward(conversation, answer));
      return scores;
    },
  };
}

/** Options of {@link judgeRewardSource}. */
export interface JudgeRewardOptions {
  readonly judge: LanguageModel;
  /** The constitution whose comparison principles, templates and few-shot examples the judge is asked with. */
  readonly constitution: Constitution;
  /** A fingerprint of the constitution (e.g. `constitutionHash`), for the checkpoints. */
  readonly constitutionHash: string;
  /** Principles drawn per pair (their labels averaged). Default 1. */
  readonly principles?: number;
  /** Few-shot comparison examples before the question. Default 0. */
  readonly fewShot?: number;
  /** Default `logprobs` (the judge must be able to score choices); `verdict` for judges without log-probs. */
  readonly mode?: JudgmentMode;
  /** Pairs judged at once (each asks both orders). Default 4. */
  readonly concurrency?: number;
}

/**
 * A reward source that asks `judge` directly (d-RLAIF): for a group of k answers, each of the k(k − 1)/2
 * pairs is judged as `cai label` judges (both orders, P from the answer letter's log-probs, under
 * `principles` comparison principles drawn from the constitution), and an answer's reward is its mean
 * probability of winning against the others. Two identical answers are a tie (0.5) without a call.
 */
export function judgeRewardSource(options: JudgeRewardOptions): RewardSource {
  const { judge, constitution } = options;
  if (constitution.comparisons.length === 0)
    throw new RangeError("the constitution has no comparison principles to judge with");
  const renderers = turnRenderers(constitution);
  const examples = constitution.examples.comparison.slice(0, options.fewShot ?? 0);
  const count = options.principles ?? 1;
  const concurrency = Math.max(1, options.concurrency ?? 4);
  return {
    fingerprint: [
      "judge",
      judge.fingerprint,
      options.constitutionHash,
      `principles=${count}`,
      `few-shot=${examples.length}`,
      options.mode ?? "logprobs",
    ].join("|"),
    async scoreGroup(conversation, answers, seed) {
      const k = answers.length;
      const pairs: [number, number][] = [];
      for (let i = 0; i < k; i += 1) for (let j = i + 1; j < k; j += 1) pairs.push([i, j]);
      // Each pair's draws come from its own seed, so the labels do not depend on the judging order.
      const judgePairAt = async ([i, j]: [number, number]): Promise<number> => {
        const first = answers[i] as string;
        const second = answers[j] as string;
        if (first === second) return 0.5;
        const random = new SeededRandom((seed ^ Math.imul(i * k + j + 1, 0x9e3779b1)) >>> 0);
        const label = await ensembleJudgment(
          { conversation, first, second },
          { judge, renderers, examples, mode: options.mode ?? "logprobs", seed: random.int(2 ** 31) },
          { principles: constitution.comparisons, count, random },
        );
        return label.pFirst;
      };
      const wins = new Array<number>(pairs.length);
      let next = 0;
      const worker = async () => {
        for (let n = next++; n < pairs.length; n = next++)
          wins[n] = await judgePairAt(pairs[n] as [number, number]);
      };
      await Promise.all(Array.from({ length: Math.min(concurrency, pairs.length) }, worker));
      const totals = new Array<number>(k).fill(0);
      pairs.forEach(([i, j], n) => {
        const p = wins[n] as number;
        totals[i] = (totals[i] as number) + p;
        totals[j] = (totals[j] as number) + (1 - p);
      });
      return totals.map((total) => (k > 1 ? total / (k - 1) : 0.5));
    },
  };
}
