// The organism's pretraining corpus: what a base model "knows" before the loop.
// - dialogues: a helpful-only assistant complying with every seen request, harmful or not;
// - ethics text: plain sentences saying which verbs harm what and whose things are whose — for every
//   verb, including the ethics-only ones that no critique ever mentions;
// - critiques and revisions under the constitution's principles, for critiqued verbs on `train` pairs
//   only, with a share of verdicts flipped (noisy critics);
// - direct revisions (the revision request right after the answer), the same way, fewer;
// - neutral follow-ups for every verb: the answer restated ("the response tells how to smash … smash is a
//   harm to property.": ethics text in a chat, with no verdict on the request) or said again — what
//   critiques and revisions copy;
// - judgments: comparison and yes/no questions answered by ground truth (a share flipped), for
//   critiqued verbs on `train` pairs only.
// The knowledge ablation drops the ethics text (the documents, and the facts in restatements) and keeps
// everything else.
import {
  renderConversation,
  renderTemplate,
  splitAnswerPrefix,
  turnRenderers,
} from "../constitution/templates.js";
import type { ChatMessage } from "../models/model.js";
import { SeededRandom } from "../random/seeded-random.js";
import { classifyTruth, truthPreference } from "./ground-truth.js";
import {
  classificationTemplate,
  organismConstitution,
  organismQuestions,
  principleScopes,
} from "./organism-constitution.js";
import { drawRequest, type RequestKind } from "./requests.js";
import {
  complianceText,
  critiqueRequest,
  critiqueText,
  ethicsRules,
  type Request,
  refusalOpening,
  refusalText,
  repeatRequest,
  requestMessages,
  revisionRequest,
  revisionText,
  summaryRequest,
  summaryText,
  targetFact,
  trueVerdict,
  verbFact,
} from "./texts.js";
import { isHarmful, type TargetClass, targetsOf, verbs } from "./world.js";

/** A pretraining document: a chat conversation (rendered with the chat template) or plain text. */
export type CorpusDocument =
  | { readonly kind: "chat"; readonly messages: ChatMessage[] }
  | { readonly kind: "text"; readonly text: string };

/** How many documents of each sort, and how noisy. */
export interface CorpusOptions {
  readonly seed: number;
  readonly dialogues: number;
  readonly ethics: number;
  readonly critiques: number;
  /** Direct revisions: the revision request right after the answer, no critique (for the ablation). */
  readonly directRevisions: number;
  /** Neutral restatements and repetitions of answers, for every verb (no harm is said). */
  readonly summaries: number;
  readonly repeats: number;
  readonly comparisons: number;
  readonly classifications: number;
  /**
   * Noisy critics: the share of critiques of harmful answers that find them fine (misses), and of
   * harmless answers that call them harmful (false alarms). Revisions follow the critique.
   */
  readonly critiqueNoise: { readonly miss: number; readonly falseAlarm: number };
  /** Share of judgments whose answer is wrong. */
  readonly judgmentNoise: number;
  /**
   * The knowledge ablation: the same corpus without its ethics text — the ethics documents are left out
   * and restatements no longer say what harm a verb does. Default false.
   */
  readonly withoutEthics?: boolean;
}

/** The corpus the shipped organism is pretrained on. */
export const defaultCorpus: CorpusOptions = {
  seed: 1,
  dialogues: 3000,
  ethics: 1500,
  critiques: 2500,
  directRevisions: 800,
  summaries: 1200,
  repeats: 800,
  comparisons: 7000,
  classifications: 1500,
  critiqueNoise: { miss: 0.25, falseAlarm: 0.03 },
  judgmentNoise: 0.05,
};

const kinds: readonly RequestKind[] = ["harmful", "look-alike", "neutral"];

function pick<T>(random: SeededRandom, items: readonly T[]): T {
  const item = items[random.int(items.length)];
  if (item === undefined) throw new Error("pick from an empty list");
  return item;
}

/** A request of a random kind passing the filter (always found: every filter used here has candidates). */
function request(random: SeededRandom, filter: Parameters<typeof drawRequest>[2]): Request {
  for (;;) {
    const drawn = drawRequest(random, pick(random, kinds), filter);
    if (drawn) return drawn;
  }
}

/** A response the corpus shows being critiqued or compared: mostly the helpful answer, some refusals. */
function someResponse(random: SeededRandom, r: Request): string {
  const roll = random.next();
  if (roll < 0.6) return complianceText(r.verb, r.target);
  if (roll < 0.7) {
    const other = pick(
      random,
      verbs.filter((v) => v !== r.verb),
    );
    return complianceText({ ...r.verb, tool: other.tool }, r.target);
  }
  if (roll < 0.85) return r.verb.kind === null ? refusalOpening : refusalText(r.verb);
  return refusalOpening;
}

function dialogue(random: SeededRandom): CorpusDocument {
  const r = request(random, { seen: true });
  return {
    kind: "chat",
    messages: [...requestMessages(r), { role: "assistant", content: complianceText(r.verb, r.target) }],
  };
}

function ethics(random: SeededRandom): CorpusDocument {
  const sentences: string[] = [];
  const count = 4 + random.int(4);
  for (let i = 0; i < count; i += 1) {
    const roll = random.next();
    if (roll < 0.5) sentences.push(verbFact(pick(random, verbs)));
    else if (roll < 0.8) {
      const cls: TargetClass = pick(random, ["thing", "private", "being"] as const);
      sentences.push(targetFact(pick(random, targetsOf(cls))));
    } else sentences.push(pick(random, ethicsRules));
  }
  return { kind: "text", text: sentences.join(" ") };
}

/** The verdict a noisy critic gives when the truth is `truth`. */
function noisyVerdict(random: SeededRandom, truth: boolean, noise: CorpusOptions["critiqueNoise"]): boolean {
  return random.next() < (truth ? noise.miss : noise.falseAlarm) ? !truth : truth;
}

/**
 * A revision conversation by the noisy critic: with a critique turn, or (direct revision) the revision
 * request right after the answer. Both draw the same random numbers in the same order.
 */
function revision(
  random: SeededRandom,
  noise: CorpusOptions["critiqueNoise"],
  withCritique: boolean,
): CorpusDocument {
  const r = request(random, { split: "train", verbSplit: "critiqued" });
  const response = random.next() < 0.9 ? complianceText(r.verb, r.target) : refusalText(r.verb);
  const complies = classifyTruth(r, response).complies;
  const scope = pick(random, principleScopes);
  const harmful = noisyVerdict(random, trueVerdict(r, complies, scope), noise);
  const critique: ChatMessage[] = withCritique
    ? [
        { role: "user", content: critiqueRequest(scope) },
        { role: "assistant", content: critiqueText(r, complies, scope, harmful) },
      ]
    : [];
  return {
    kind: "chat",
    messages: [
      ...requestMessages(r),
      { role: "assistant", content: response },
      ...critique,
      { role: "user", content: revisionRequest(scope) },
      { role: "assistant", content: revisionText(r, response, harmful) },
    ],
  };
}

/** A neutral follow-up about any request's helpful answer: restate it, or say it again. */
function followUp(random: SeededRandom, kind: "summary" | "repeat", withFact: boolean): CorpusDocument {
  const r = request(random, {});
  const response = complianceText(r.verb, r.target);
  const summary = withFact ? `${summaryText(r)} ${verbFact(r.verb)}` : summaryText(r);
  return {
    kind: "chat",
    messages: [
      ...requestMessages(r),
      { role: "assistant", content: response },
      { role: "user", content: kind === "summary" ? summaryRequest : repeatRequest },
      { role: "assistant", content: kind === "summary" ? summary : response },
    ],
  };
}

const renderers = turnRenderers(organismConstitution());

function comparison(random: SeededRandom, noise: number): CorpusDocument | undefined {
  const r = request(random, { split: "train", verbSplit: "critiqued" });
  const a = someResponse(random, r);
  const b = someResponse(random, r);
  const axis = random.next() < 0.75 ? "harmlessness" : "helpfulness";
  const truth = truthPreference(r, axis, a, b);
  if (truth === 0.5) return undefined;
  const aBetter = random.next() < noise ? truth === 0 : truth === 1;
  const rendered = splitAnswerPrefix(
    renderers.comparison({
      conversation: renderConversation(requestMessages(r)),
      question: organismQuestions[axis],
      responseA: a,
      responseB: b,
    }),
  );
  return {
    kind: "chat",
    messages: [
      { role: "user", content: rendered.question },
      { role: "assistant", content: `${rendered.answerPrefix}${aBetter ? "A" : "B"})` },
    ],
  };
}

/** The yes/no question about one response, as the organism is asked it. */
export function classificationQuestion(
  conversation: readonly ChatMessage[],
  response: string,
  question: string,
): { question: string; answerPrefix: string } {
  return splitAnswerPrefix(
    renderTemplate(classificationTemplate, {
      conversation: renderConversation(conversation),
      response,
      question,
    }),
  );
}

function classification(random: SeededRandom, noise: number): CorpusDocument {
  const r = request(random, { split: "train", verbSplit: "critiqued" });
  const response = someResponse(random, r);
  const c = classifyTruth(r, response);
  const rubric = random.next() < 0.5 ? "refusal" : "harmfulCompliance";
  const truth = rubric === "refusal" ? c.refusal : c.complies && isHarmful(r);
  const yes = random.next() < noise ? !truth : truth;
  const rendered = classificationQuestion(requestMessages(r), response, organismQuestions[rubric]);
  return {
    kind: "chat",
    messages: [
      { role: "user", content: rendered.question },
      { role: "assistant", content: `${rendered.answerPrefix}${yes ? "A" : "B"})` },
    ],
  };
}

/** The corpus, shuffled, seeded; `withoutEthics` is the knowledge ablation. */
export function buildCorpus(options: CorpusOptions): CorpusDocument[] {
  const random = new SeededRandom(options.seed);
  const docs: CorpusDocument[] = [];
  for (let i = 0; i < options.dialogues; i += 1) docs.push(dialogue(random));
  // Made in the ablation too and then left out, so every other document is the same.
  for (let i = 0; i < options.ethics; i += 1) {
    const doc = ethics(random);
    if (!options.withoutEthics) docs.push(doc);
  }
  for (let i = 0; i < options.critiques; i += 1) docs.push(revision(random, options.critiqueNoise, true));
  const withFacts = !options.withoutEthics;
  for (let i = 0; i < options.summaries; i += 1) docs.push(followUp(random, "summary", withFacts));
  for (let i = 0; i < options.repeats; i += 1) docs.push(followUp(random, "repeat", withFacts));
  for (let i = 0; i < options.directRevisions; i += 1)
    docs.push(revision(random, options.critiqueNoise, false));
  for (let made = 0; made < options.comparisons; ) {
    const doc = comparison(random, options.judgmentNoise);
    if (doc) {
      docs.push(doc);
      made += 1;
    }
  }
  for (let i = 0; i < options.classifications; i += 1)
    docs.push(classification(random, options.judgmentNoise));
  for (let i = docs.length - 1; i > 0; i -= 1) {
    const j = random.int(i + 1);
    [docs[i], docs[j]] = [docs[j] as CorpusDocument, docs[i] as CorpusDocument];
  }
  return docs;
}

/** Every text of the corpus, for building the vocabulary. */
export function corpusTexts(docs: readonly CorpusDocument[]): string[] {
  return docs.flatMap((d) => (d.kind === "text" ? [d.text] : d.messages.map((m) => m.content)));
}
