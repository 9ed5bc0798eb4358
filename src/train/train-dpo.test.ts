// DPO on a synthetic preference task: answers that name the thing's colour are chosen over a curt refusal,
// in phrasings the training set never uses. Training raises the held-out chosen − rejected log-ratio
// margin (and accuracy) from zero, llama.cpp with the adapter agrees that the chosen answers became
// likelier relative to the rejected ones, and a rerun reuses the cached reference log-probabilities.
import { mkdtemp, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { LlamaLanguageModel } from "../models/llama/llama-language-model.js";
import { testFolder, testModel } from "../test-support/test-models.js";
import { trainDpo } from "./train-dpo.js";

const colours: Record<string, string> = { sea: "blue", grass: "green", sun: "gold", snow: "white" };
const trainAsks = [(t: string) => `what colour is the ${t}?`, (t: string) => `colour of the ${t}`];
const heldAsks = [(t: string) => `which colour has the ${t}?`];

const rows = (asks: readonly ((t: string) => string)[]) =>
  Object.entries(colours).flatMap(([thing, colour]) =>
    asks.map((ask) => ({ prompt: ask(thing), chosen: `it is ${colour}`, rejected: "no" })),
  );
const jsonl = (values: readonly object[]) => values.map((v) => `${JSON.stringify(v)}\n`).join("");

async function logRatio(model: LlamaLanguageModel, ask: string, chosen: string, rejected: string) {
  const prefix = { messages: [{ role: "user" as const, content: ask }] };
  const c = await model.logLikelihood({ prefix, continuation: chosen });
  const r = await model.logLikelihood({ prefix, continuation: rejected });
  return c.logprob - r.logprob;
}

describe("trainDpo", () => {
  it("raises the held-out chosen − rejected margin; llama.cpp with the adapter agrees", async () => {
    const base = await testModel("tiny", "F32");
    const dir = await mkdtemp(path.join(await testFolder(), "dpo-"));
    const data = path.join(dir, "train.jsonl");
    const evalData = path.join(dir, "held.jsonl");
    await writeFile(data, jsonl(rows(trainAsks)));
    await writeFile(evalData, jsonl(rows(heldAsks)));
    const out = path.join(dir, "out");
    const options = {
      base,
      data,
      evalData,
      out,
      beta: 0.5,
      rank: 4,
      steps: 30,
      batchSize: 4,
      lr: 1e-2,
      seed: 2,
    };
    const result = await trainDpo(options);
    const { start, end } = result.eval ?? { start: undefined, end: undefined };
    console.log(
      `dpo: held-out margin ${start?.margin.toFixed(3)} → ${end?.margin.toFixed(3)}, accuracy ${start?.accuracy} → ${end?.accuracy}, loss ${start?.loss.toFixed(3)} → ${end?.loss.toFixed(3)}`,
    );
    expect(start?.margin).toBeCloseTo(0, 5); // the fresh adapter is the reference
    expect(start?.loss).toBeCloseTo(Math.log(2), 5);
    expect(end?.margin).toBeGreaterThan(2);
    expect(end?.accuracy).toBe(1);

    const baseModel = await LlamaLanguageModel.load(base, { threads: 1, gpu: false, parallel: 1 });
    const tuned = await LlamaLanguageModel.load(base, {
      threads: 1,
      gpu: false,
      parallel: 1,
      adapters: [{ path: result.adapter }],
    });
    try {
      for (const [thing, colour] of Object.entries(colours)) {
        const ask = heldAsks[0]?.(thing) ?? "";
        const before = await logRatio(baseModel, ask, `it is ${colour}`, "no");
        const after = await logRatio(tuned, ask, `it is ${colour}`, "no");
        expect(after).toBeGreaterThan(before + 1);
      }
    } finally {
      await baseModel.close();
      await tuned.close();
    }

    // The reference log-probabilities were cached; a rerun (resuming at the last step) reuses them.
    const cache = path.join(out, "reference-logprobs.json");
    const written = (await stat(cache)).mtimeMs;
    await expect(trainDpo(options)).rejects.toThrow(/holds a checkpoint of an earlier run/);
    const again = await trainDpo({ ...options, resume: true });
    expect(again.resumedFrom).toBe(30);
    expect((await stat(cache)).mtimeMs).toBe(written);
  });
});
