// SFT on a small learnable synthetic task (the answer names the colour of the thing asked about, in
// phrasings the training set never uses): the held-out loss falls, and llama.cpp with the exported adapter
// then writes the trained answers greedily for unseen questions — and stops after them (the end-of-turn
// token is learned).
import { mkdtemp, writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { LlamaLanguageModel } from "../models/llama/llama-language-model.js";
import { testFolder, testModel } from "../test-support/test-models.js";
import { trainSft } from "./train-sft.js";

const colours: Record<string, string> = { sea: "blue", grass: "green", sun: "gold", snow: "white" };
const trainPhrasings = [
  (thing: string) => `what colour is the ${thing}?`,
  (thing: string) => `colour of the ${thing}`,
  (thing: string) => `tell me the ${thing} colour`,
  (thing: string) => `the ${thing} is which colour?`,
];
const heldOutPhrasings = [(thing: string) => `which colour has the ${thing}?`];

function rows(phrasings: readonly ((thing: string) => string)[]) {
  return Object.entries(colours).flatMap(([thing, colour]) =>
    phrasings.map((ask) => ({
      messages: [
        { role: "user", content: ask(thing) },
        { role: "assistant", content: `it is ${colour}` },
      ],
    })),
  );
}

const jsonl = (values: readonly object[]) => values.map((v) => `${JSON.stringify(v)}\n`).join("");

/** The base model and a fresh folder with the task's training and held-out files. */
async function task(prefix: string) {
  const base = await testModel("tiny", "F32");
  const dir = await mkdtemp(path.join(await testFolder(), prefix));
  const data = path.join(dir, "train.jsonl");
  const evalData = path.join(dir, "held-out.jsonl");
  await writeFile(data, jsonl(rows(trainPhrasings)));
  await writeFile(evalData, jsonl(rows(heldOutPhrasings)));
  return { base, dir, data, evalData };
}

/** Greedy replies of `model` to the held-out question about every thing: the answer, then a stop. */
async function expectTrainedAnswers(model: LlamaLanguageModel): Promise<void> {
  for (const [thing, colour] of Object.entries(colours)) {
    const ask = heldOutPhrasings[0]?.(thing) ?? "";
    const reply = await model.generate({
      messages: [{ role: "user", content: ask }],
      maxTokens: 24,
      temperature: 0,
    });
    expect({ ask, text: reply.text, finish: reply.finishReason }).toEqual({
      ask,
      text: `it is ${colour}`,
      finish: "stop",
    });
  }
}

describe("trainSft on a learnable synthetic task", () => {
  it("lowers the held-out loss and llama.cpp with the adapter writes the trained answers, then stops", async () => {
    const { base, dir, data, evalData } = await task("sft-task-");

    const result = await trainSft({
      base,
      data,
      evalData,
      out: path.join(dir, "out"),
      rank: 8,
      alpha: 16,
      steps: 60,
      batchSize: 4,
      lr: 1e-2,
      seed: 1,
      merge: true,
    });
    const { start, end } = result.evalLoss ?? { start: Number.NaN, end: Number.NaN };
    console.log(`sft task: held-out loss ${start.toFixed(3)} → ${end.toFixed(5)}`);
    expect(end).toBeLessThan(start * 0.1);
    expect(result.output).toBe(result.adapter);

    const options = { threads: 1, gpu: false as const, parallel: 1, exactKvCache: true };
    const model = await LlamaLanguageModel.load(base, { ...options, adapters: [{ path: result.output }] });
    // The merged model (the adapter folded into the base) is the same model in llama.cpp.
    const merged = await LlamaLanguageModel.load(result.model ?? "", options);
    try {
      await expectTrainedAnswers(model);
      await expectTrainedAnswers(merged);
      for (const continuation of ["it is blue", "it is green", "the sea"]) {
        const ask = {
          prefix: { messages: [{ role: "user" as const, content: "which colour has the sea?" }] },
          continuation,
        };
        const [a, b] = [await model.logLikelihood(ask), await merged.logLikelihood(ask)];
        expect(Math.abs(a.logprob - b.logprob)).toBeLessThan(1e-3);
      }
    } finally {
      await model.close();
      await merged.close();
    }
  });

  it("trains every weight with full: the written GGUF model generates the trained answers", async () => {
    const { base, dir, data, evalData } = await task("sft-full-");
    const result = await trainSft({
      base,
      data,
      evalData,
      out: path.join(dir, "out"),
      full: true,
      steps: 40,
      batchSize: 4,
      lr: 3e-3,
      seed: 1,
    });
    expect(result.model).toBe(result.output);
    expect(result.adapter).toBeUndefined();
    const { start, end } = result.evalLoss ?? { start: Number.NaN, end: Number.NaN };
    console.log(`sft task (full): held-out loss ${start.toFixed(3)} → ${end.toFixed(5)}`);
    expect(end).toBeLessThan(start * 0.1);

    const model = await LlamaLanguageModel.load(result.output, { threads: 1, gpu: false, parallel: 1 });
    try {
      await expectTrainedAnswers(model);
    } finally {
      await model.close();
    }
  });
});
