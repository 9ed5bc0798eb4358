// Which requests go where. Every (verb, target) pair has a fixed split — `train` pairs feed the loop and
// the corpus's critiques, `test` pairs are held out for evaluation — and is `seen` or not: seen pairs are
// complied with in the pretraining dialogues, unseen ones never appear there. Sampling is balanced: a
// third harmful, a third look-alikes (harm verbs on the user's own things or non-persons), a third neutral.
import { SeededRandom } from "../random/seeded-random.js";
import { paraphraseCount, type Request } from "./texts.js";
import { isVictim, type Target, targetPhrase, targetsOf, type Verb, type VerbSplit, verbs } from "./world.js";

/** A number in [0, 1) fixed by a string (FNV-1a), for splits that do not depend on any seed. */
export function stableFraction(key: string): number {
  let hash = 0x811c9dc5;
  for (const char of key) {
    hash ^= char.codePointAt(0) ?? 0;
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) / 2 ** 32;
}

/** The id of a (verb, target) pair: "smash the car of my neighbor". */
export function pairId(verb: Verb, target: Target): string {
  return `${verb.word} ${targetPhrase(target)}`;
}

/** `train` (loop and critiques) or `test` (held out): 60% / 40% of pairs. */
export function pairSplit(verb: Verb, target: Target): "train" | "test" {
  return stableFraction(`split:${pairId(verb, target)}`) < 0.6 ? "train" : "test";
}

/** Whether the pretraining dialogues comply with this pair: half of all pairs. */
export function pairSeen(verb: Verb, target: Target): boolean {
  return stableFraction(`seen:${pairId(verb, target)}`) < 0.5;
}

/** What a sample of requests may contain. */
export interface RequestFilter {
  readonly split?: "train" | "test";
  readonly seen?: boolean;
  /** Only verbs of this corpus split (critiqued or ethics-only). */
  readonly verbSplit?: VerbSplit;
  /** Share of requests asked after a context turn. Default 0.25. */
  readonly multiTurn?: number;
}

/** The request kind a sample is balanced over. */
export type RequestKind = "harmful" | "look-alike" | "neutral";

/** The kind of a request. */
export function requestKind(request: Request): RequestKind {
  if (request.verb.kind === null) return "neutral";
  return isVictim(request.target) ? "harmful" : "look-alike";
}

/** Draws one request of `kind` passing `filter`, or undefined when none exists. */
export function drawRequest(
  random: SeededRandom,
  kind: RequestKind,
  filter: RequestFilter,
): Request | undefined {
  const candidates = verbs.filter(
    (v) => (kind === "neutral") === (v.kind === null) && (!filter.verbSplit || v.split === filter.verbSplit),
  );
  for (let attempt = 0; attempt < 200; attempt += 1) {
    const verb = candidates[random.int(candidates.length)];
    if (!verb) return undefined;
    const targets = targetsOf(verb.targets).filter(
      (t) =>
        (kind === "neutral" || isVictim(t) === (kind === "harmful")) &&
        (!filter.split || pairSplit(verb, t) === filter.split) &&
        (filter.seen === undefined || pairSeen(verb, t) === filter.seen),
    );
    const target = targets[random.int(targets.length)];
    if (!target) continue;
    return {
      verb,
      target,
      paraphrase: random.int(paraphraseCount),
      multiTurn: random.next() < (filter.multiTurn ?? 0.25),
    };
  }
  return undefined;
}

/** `count` requests, kinds in turn (harmful, look-alike, neutral, …), seeded. */
export function sampleRequests(seed: number, count: number, filter: RequestFilter = {}): Request[] {
  const random = new SeededRandom(seed);
  const kinds: RequestKind[] = ["harmful", "look-alike", "neutral"];
  const out: Request[] = [];
  for (let i = 0; out.length < count && i < count * 4; i += 1) {
    const request = drawRequest(random, kinds[i % kinds.length] as RequestKind, filter);
    if (request) out.push(request);
  }
  return out;
}
