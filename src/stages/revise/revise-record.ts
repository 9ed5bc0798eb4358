// SL-CAI for one prompt: the policy drafts an answer, then for each round a principle is drawn at random
// and the critic (the policy itself, or an overseer) critiques the current answer and rewrites it.
// Every message sent and every output is kept in the trace.
import { promptMessages } from "../../data/prompt-set.js";
import type { ChatMessage, LanguageModel, TokenUsage } from "../../models/model.js";
import { SeededRandom } from "../../random/seeded-random.js";
import { recordSeed } from "../../runs/record-seed.js";
import { cleanRevision, critiqueFindsNothing } from "./clean-revision.js";

/** A critique/revision principle, as the stage needs it. */
export interface RevisionPrinciple {
  id: string;
  critique: string;
  revision: string;
  weight?: number;
}

/** A worked critique → revision example placed before the conversation (few-shot). */
export interface RevisionExample {
  prompt: string | ChatMessage[];
  response: string;
  principle?: string;
  /** The requests this example answers when it names no principle (imported examples). */
  critiqueRequest?: string;
  revisionRequest?: string;
  critique: string;
  revision: string;
}

/** What of a constitution the revision stage uses. */
export interface RevisionConstitution {
  principles: RevisionPrinciple[];
  examples?: { critique?: RevisionExample[] };
}

/** How the user turns asking for a critique and a revision are written. */
export interface RevisionTemplates {
  /** Renders the critique turn from a principle's critique request. */
  critique: (critiqueRequest: string) => string;
  /** Renders the revision turn from a principle's revision request. */
  revision: (revisionRequest: string) => string;
}

/** Settings of the revision stage. */
export interface ReviseSettings {
  policy: LanguageModel;
  /** Critiques and revises; the policy itself unless an overseer is given. */
  critic: LanguageModel;
  constitution: RevisionConstitution;
  templates: RevisionTemplates;
  /** Critique → revision rounds (the paper: 4; Hugging Face's recipe: 1). */
  rounds: number;
  /** Run seed; each prompt's draws derive from it and the prompt id. */
  seed: number;
  maxTokens: number;
  temperature: number;
  /** Skip the revision (and later rounds) when the critique finds nothing to change. */
  earlyStop: boolean;
  /**
   * Skip the revision when the critique finds nothing to change, and go on to the next round (default
   * false: always revise). A rewrite nobody asked for can only damage a good answer — small models often
   * garble what they were meant to copy.
   */
  keepWhenFine?: boolean;
  /**
   * Critique before revising (default true). False: direct revision, the paper's ablation — the revision
   * request follows the answer at once, with no critique turn (the round's `critique` is empty).
   */
  critique?: boolean;
  /** Draws a principle; weighted sampling with replacement. */
  samplePrinciple: (principles: RevisionPrinciple[], random: SeededRandom) => RevisionPrinciple;
  signal?: AbortSignal;
}

/** One critique → revision round. */
export interface RevisionRound {
  principleId: string;
  critiqueRequest: string;
  critiqueMessages: ChatMessage[];
  critique: string;
  revisionRequest: string;
  /** Absent when the round stopped early. */
  revisionMessages?: ChatMessage[];
  rawRevision?: string;
  /** The answer after this round. */
  revision: string;
  /** `revised`; `unchanged` (same text); `empty` (nothing left after cleaning: kept the answer); `skipped` (the critique found nothing to change). */
  outcome: "revised" | "unchanged" | "empty" | "skipped";
}

/** Everything that happened to one prompt. */
export interface RevisionTrace {
  prompt: ChatMessage[];
  draftMessages: ChatMessage[];
  draft: string;
  rounds: RevisionRound[];
  /** The final answer (the draft when no round changed it). */
  revision: string;
  usage: TokenUsage;
}

/** Few-shot critique → revision conversations (without the critique in direct revision), as chat turns placed before the real one. */
function fewShotMessages(settings: ReviseSettings, fallback: RevisionPrinciple): ChatMessage[] {
  const byId = new Map(settings.constitution.principles.map((p) => [p.id, p]));
  return (settings.constitution.examples?.critique ?? []).flatMap((example): ChatMessage[] => {
    // The example's own principle, else its own requests, else the round's principle.
    const principle = (example.principle && byId.get(example.principle)) || fallback;
    const critique: ChatMessage[] =
      settings.critique === false
        ? []
        : [
            {
              role: "user",
              content: settings.templates.critique(example.critiqueRequest ?? principle.critique),
            },
            { role: "assistant", content: example.critique },
          ];
    return [
      ...promptMessages(example),
      { role: "assistant", content: example.response },
      ...critique,
      { role: "user", content: settings.templates.revision(example.revisionRequest ?? principle.revision) },
      { role: "assistant", content: example.revision },
    ];
  });
}

/** Drafts, critiques and revises one prompt. */
export async function reviseRecord(
  id: string,
  prompt: string | ChatMessage[],
  settings: ReviseSettings,
): Promise<RevisionTrace> {
  const random = new SeededRandom(recordSeed(settings.seed, id));
  const usage: TokenUsage = { inputTokens: 0, outputTokens: 0 };
  const generate = async (model: LanguageModel, messages: ChatMessage[]) => {
    const result = await model.generate({
      messages,
      maxTokens: settings.maxTokens,
      temperature: settings.temperature,
      seed: random.int(2 ** 31),
      ...(settings.signal ? { signal: settings.signal } : {}),
    });
    usage.inputTokens += result.usage.inputTokens;
    usage.outputTokens += result.usage.outputTokens;
    return result.text.trim();
  };

  const conversation = promptMessages({ prompt });
  const draftMessages = [...conversation];
  const draft = await generate(settings.policy, draftMessages);
  let current = draft;
  const rounds: RevisionRound[] = [];
  /** The critic's revision for `revisionMessages`, cleaned; it becomes the current answer unless empty. */
  const revise = async (revisionMessages: ChatMessage[]) => {
    const rawRevision = await generate(settings.critic, revisionMessages);
    const cleaned = cleanRevision(rawRevision).text;
    const outcome: RevisionRound["outcome"] = !cleaned
      ? "empty"
      : cleaned === current
        ? "unchanged"
        : "revised";
    if (cleaned) current = cleaned;
    return { revisionMessages, rawRevision, revision: current, outcome };
  };
  for (let round = 0; round < settings.rounds; round += 1) {
    const principle = settings.samplePrinciple(settings.constitution.principles, random);
    if (settings.critique === false) {
      const revisionMessages: ChatMessage[] = [
        ...fewShotMessages(settings, principle),
        ...conversation,
        { role: "assistant", content: current },
        { role: "user", content: settings.templates.revision(principle.revision) },
      ];
      const revised = await revise(revisionMessages);
      rounds.push({
        principleId: principle.id,
        critiqueRequest: principle.critique,
        critiqueMessages: [],
        critique: "",
        revisionRequest: principle.revision,
        ...revised,
      });
      continue;
    }
    const critiqueMessages: ChatMessage[] = [
      ...fewShotMessages(settings, principle),
      ...conversation,
      { role: "assistant", content: current },
      { role: "user", content: settings.templates.critique(principle.critique) },
    ];
    const critique = await generate(settings.critic, critiqueMessages);
    const base = {
      principleId: principle.id,
      critiqueRequest: principle.critique,
      critiqueMessages,
      critique,
    };
    if ((settings.earlyStop || settings.keepWhenFine) && critiqueFindsNothing(critique)) {
      rounds.push({ ...base, revisionRequest: principle.revision, revision: current, outcome: "skipped" });
      if (settings.earlyStop) break;
      continue;
    }
    const revisionMessages: ChatMessage[] = [
      ...critiqueMessages,
      { role: "assistant", content: critique },
      { role: "user", content: settings.templates.revision(principle.revision) },
    ];
    rounds.push({ ...base, revisionRequest: principle.revision, ...(await revise(revisionMessages)) });
  }
  return { prompt: conversation, draftMessages, draft, rounds, revision: current, usage };
}
