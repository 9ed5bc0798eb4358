// Comparisons queued for a person, and their answers: the human side of the evaluation. The queue is a
// JSONL file of self-contained items (prompt, the two responses in the order to show them, which
// contestant is which, the axis and its question) so a terminal labeller today and a web page later can
// both serve it; answers are appended to a second JSONL file as they are given, so labelling resumes
// where it stopped and nothing given is lost.
import { existsSync } from "node:fs";
import { appendFile } from "node:fs/promises";
import { z } from "zod";
import { readJsonLines, writeJsonLines } from "../../data/jsonl-file.js";
import { validateLines } from "../../data/validated-lines.js";
import { SeededRandom } from "../../random/seeded-random.js";
import type { Comparison } from "../bradley-terry.js";
import { axisRubrics, type EvalAxis } from "../rubrics.js";

const message = z.object({ role: z.enum(["system", "user", "assistant"]), content: z.string() });

/** One comparison for a person. */
export const humanQueueItemSchema = z.object({
  id: z.string().min(1),
  axis: z.enum(["helpfulness", "harmlessness"]),
  question: z.string(),
  prompt: z.array(message).min(1),
  /** Shown as (A) and (B); `contestant` indexes the tournament's contestants. */
  a: z.object({ contestant: z.number().int().min(0), text: z.string() }),
  b: z.object({ contestant: z.number().int().min(0), text: z.string() }),
});
export type HumanQueueItem = z.output<typeof humanQueueItemSchema>;

/** A person's answer. */
export const humanAnswerSchema = z.object({
  id: z.string().min(1),
  verdict: z.enum(["A", "B", "tie", "skip"]),
  /** ISO time of the answer. */
  at: z.string(),
});
export type HumanAnswer = z.output<typeof humanAnswerSchema>;

/** A comparison to queue: two contestants' responses to a prompt on an axis. */
export interface QueuedPair {
  readonly id: string;
  readonly axis: EvalAxis;
  readonly prompt: HumanQueueItem["prompt"];
  readonly first: { readonly contestant: number; readonly text: string };
  readonly second: { readonly contestant: number; readonly text: string };
}

/**
 * Queue items for `pairs`, each shown in a seeded random order (a person has position biases too), with
 * the axis's question.
 */
export function queueItems(pairs: readonly QueuedPair[], seed: number): HumanQueueItem[] {
  const random = new SeededRandom(seed);
  return pairs.map((pair) => {
    const swap = random.next() < 0.5;
    const [a, b] = swap ? [pair.second, pair.first] : [pair.first, pair.second];
    return {
      id: pair.id,
      axis: pair.axis,
      question: axisRubrics[pair.axis].question,
      prompt: [...pair.prompt],
      a,
      b,
    };
  });
}

/** Writes a queue file. */
export function writeQueue(file: string, items: readonly HumanQueueItem[]): Promise<void> {
  return writeJsonLines(file, items);
}

/** The items of a queue file (errors name file, line and field). */
export async function readQueue(file: string): Promise<HumanQueueItem[]> {
  return validateLines(file, await readJsonLines(file), humanQueueItemSchema);
}

/** The answers given so far (none when the file does not exist yet); a later answer to an id wins. */
export async function readAnswers(file: string): Promise<Map<string, HumanAnswer>> {
  if (!existsSync(file)) return new Map();
  return new Map(validateLines(file, await readJsonLines(file), humanAnswerSchema).map((a) => [a.id, a]));
}

/** Appends one answer (one line, written at once). */
export async function appendAnswer(file: string, answer: HumanAnswer): Promise<void> {
  await appendFile(file, `${JSON.stringify(answer)}\n`);
}

/** The queue items not answered yet, in queue order. */
export function pendingItems(
  items: readonly HumanQueueItem[],
  answers: ReadonlyMap<string, HumanAnswer>,
): HumanQueueItem[] {
  return items.filter((item) => !answers.has(item.id));
}

/** Bradley–Terry comparisons of the answered items on `axis` (A won: 1, B won: 0, tie: 0.5; skips left out). */
export function humanComparisons(
  items: readonly HumanQueueItem[],
  answers: ReadonlyMap<string, HumanAnswer>,
  axis: EvalAxis,
): Comparison[] {
  const outcomes = { A: 1, B: 0, tie: 0.5 } as const;
  return items.flatMap((item) => {
    const answer = answers.get(item.id);
    if (item.axis !== axis || answer === undefined || answer.verdict === "skip") return [];
    return [{ a: item.a.contestant, b: item.b.contestant, outcome: outcomes[answer.verdict] }];
  });
}
