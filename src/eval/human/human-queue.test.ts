// The human side: a queue shows pairs in seeded random order, the terminal labeller records keys and
// resumes at the first unanswered item, and answers become Bradley–Terry comparisons (skips left out).
import { mkdtemp, readFile } from "node:fs/promises";
import path from "node:path";
import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import { testFolder } from "../../test-support/test-models.js";
import { humanComparisons, queueItems, readAnswers, readQueue, writeQueue } from "./human-queue.js";
import { labelInTerminal } from "./terminal-labeller.js";

const pairs = [0, 1, 2].map((i) => ({
  id: `p${i}`,
  axis: i === 2 ? ("harmlessness" as const) : ("helpfulness" as const),
  prompt: [{ role: "user" as const, content: `question ${i}` }],
  first: { contestant: 0, text: `first answer ${i}` },
  second: { contestant: 1, text: `second answer ${i}` },
}));

/** Runs a session fed `typed` (lines) and returns what it did and printed. */
async function session(queueFile: string, answersFile: string, typed: string) {
  const input = new PassThrough();
  const output = new PassThrough();
  let printed = "";
  output.on("data", (chunk) => {
    printed += chunk.toString();
  });
  const running = labelInTerminal({ queueFile, answersFile, input, output, now: () => new Date(0) });
  input.end(typed);
  return { result: await running, printed };
}

describe("human evaluation queue and terminal labeller", () => {
  it("queues pairs in seeded order, records keys, resumes, and yields comparisons", async () => {
    const dir = await mkdtemp(path.join(await testFolder(), "human-eval-"));
    const queueFile = path.join(dir, "queue.jsonl");
    const answersFile = path.join(dir, "answers.jsonl");
    const items = queueItems(pairs, 3);
    expect(queueItems(pairs, 3)).toEqual(items);
    // Seeded random order: not every pair shows the first contestant as (A).
    expect(new Set(queueItems([...pairs, ...pairs, ...pairs], 3).map((i) => i.a.contestant))).toEqual(
      new Set([0, 1]),
    );
    await writeQueue(queueFile, items);
    expect(await readQueue(queueFile)).toEqual(items);

    // First session: answers one item (after a wrong key), then quits.
    const first = await session(queueFile, answersFile, "x\na\nq\n");
    expect(first.result).toEqual({ answered: 1, remaining: 2, quit: true });
    expect(first.printed).toContain("1/3 · helpfulness");
    expect(first.printed).toContain("press a, b, t, s or q");
    // Second session starts at item 2.
    const second = await session(queueFile, answersFile, "t\ns\n");
    expect(second.result).toEqual({ answered: 2, remaining: 0, quit: false });
    expect(second.printed).toContain("2/3");
    expect(second.printed).not.toContain("1/3");

    const answers = await readAnswers(answersFile);
    expect([...answers.values()].map((a) => a.verdict)).toEqual(["A", "tie", "skip"]);
    expect((await readFile(answersFile, "utf8")).trim().split("\n")).toHaveLength(3);
    const first0 = items[0];
    expect(humanComparisons(items, answers, "helpfulness")).toEqual([
      { a: first0?.a.contestant, b: first0?.b.contestant, outcome: 1 },
      { a: items[1]?.a.contestant, b: items[1]?.b.contestant, outcome: 0.5 },
    ]);
    expect(humanComparisons(items, answers, "harmlessness")).toEqual([]); // skipped
  });

  it("names the file, line and field of a bad queue item", async () => {
    const dir = await mkdtemp(path.join(await testFolder(), "human-bad-"));
    const queueFile = path.join(dir, "queue.jsonl");
    await writeQueue(queueFile, [{ ...queueItems(pairs, 1)[0], axis: "fun" } as never]);
    await expect(readQueue(queueFile)).rejects.toThrow(/queue\.jsonl:1 \(axis\)/);
  });
});
