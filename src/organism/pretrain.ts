// Pretrains an organism from scratch with cai's own trainer: a llama-architecture GGUF with seeded random
// weights and a word-level SentencePiece vocabulary of the world is written first, then every weight is
// trained on the corpus (next-token loss on every token; chat documents rendered with the model's own
// chat template through llama.cpp, as inference will see them) and the result is written as a GGUF model.
// Checkpoints go to `work/`, so an interrupted pretraining resumes.
import { mkdir, rm } from "node:fs/promises";
import path from "node:path";
import { makeTestModel } from "../gguf/test-models/make-model.js";
import type { ModelPreset } from "../gguf/test-models/presets.js";
import { buildWordVocabulary } from "../gguf/test-models/spm-vocabulary.js";
import { sftExampleFromMessages } from "../train/data/chat-tokens.js";
import { writeGgufModel } from "../train/formats/export-gguf-model.js";
import { type TrainLoopResult, type TrainProgress, trainLoop } from "../train/loop/train-loop.js";
import { openTokenizer } from "../train/loop/training-run.js";
import { initTrainingBackend } from "../train/model/backend.js";
import { createFullModel, disposeFullModel, fullModelVariables } from "../train/model/full-model.js";
import { disposeWeights, loadWeights } from "../train/model/weights.js";
import { AdamW, type SftExample, sftLoss } from "../train/objectives/sft.js";
import { padBatch } from "../train/train-sft.js";
import {
  buildCorpus,
  type CorpusDocument,
  type CorpusOptions,
  corpusTexts,
  defaultCorpus,
} from "./corpus.js";
import { classificationTemplate, comparisonTemplate } from "./organism-constitution.js";

/** The organism's shape: ~0.6M parameters, tied embeddings, context 256. */
export const organismShape: ModelPreset = {
  architecture: "llama",
  vocabSize: 0,
  embeddingLength: 128,
  blockCount: 4,
  headCount: 4,
  headCountKv: 2,
  feedForwardLength: 256,
  contextLength: 256,
  ropeFreqBase: 10000,
  rmsEpsilon: 1e-5,
  tiedEmbeddings: true,
};

/** Options of {@link pretrainOrganism}. */
export interface PretrainOptions {
  /** The GGUF model to write. */
  readonly model: string;
  /** Working directory: the initial model and checkpoints (resumable). */
  readonly work: string;
  readonly corpus?: CorpusOptions;
  /** Drop the ethics text (the knowledge ablation); the vocabulary stays that of the full corpus. */
  readonly withoutEthics?: boolean;
  readonly seed?: number;
  /** Updates; default `epochs` passes over the corpus. */
  readonly steps?: number;
  /** Passes over the corpus when `steps` is not given. Default 1. */
  readonly epochs?: number;
  /** Documents per update (grouped by length). Default 16. */
  readonly batchSize?: number;
  readonly lr?: number;
  readonly stop?: AbortSignal;
  readonly onProgress?: (progress: TrainProgress) => void;
}

/** What pretraining did. */
export interface PretrainResult {
  readonly documents: number;
  readonly tokens: number;
  readonly parameters: number;
  readonly result: TrainLoopResult;
  readonly seconds: number;
}

/** The words of the world: every word of the full corpus and of the judging templates. */
export function organismWords(corpus: CorpusOptions = defaultCorpus): string[] {
  const texts = [
    ...corpusTexts(buildCorpus(corpus)),
    comparisonTemplate,
    classificationTemplate,
    "user assistant system Human Assistant System",
  ];
  const counts = new Map<string, number>();
  for (const text of texts)
    for (const word of text.match(/[A-Za-z]+/g) ?? []) counts.set(word, (counts.get(word) ?? 0) + 1);
  return [...counts.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).map(([word]) => word);
}

/** Groups examples of similar length into padded batches of `size` (the last may be smaller). */
function lengthBatches(examples: SftExample[], size: number): SftExample[][] {
  const sorted = [...examples].sort((a, b) => a.tokens.length - b.tokens.length);
  const batches: SftExample[][] = [];
  for (let i = 0; i < sorted.length; i += size) batches.push(padBatch(sorted.slice(i, i + size)));
  return batches;
}

/** Pretrains one organism; see the file comment. */
export async function pretrainOrganism(options: PretrainOptions): Promise<PretrainResult> {
  const started = performance.now();
  const corpusOptions = options.corpus ?? defaultCorpus;
  const seed = options.seed ?? 0;
  await mkdir(options.work, { recursive: true });
  const initial = path.join(options.work, "initial.gguf");
  const { parameters } = await makeTestModel({
    preset: organismShape,
    vocabulary: buildWordVocabulary(organismWords(corpusOptions)),
    name: options.withoutEthics ? "cai-organism-no-ethics" : "cai-organism",
    seed,
    out: initial,
  });
  const docs = buildCorpus({ ...corpusOptions, withoutEthics: options.withoutEthics ?? false });
  const examples = await tokenizeCorpus(initial, docs);
  const tokens = examples.reduce((sum, e) => sum + e.tokens.length, 0);

  await initTrainingBackend();
  const weights = await loadWeights(initial);
  const model = createFullModel(weights);
  disposeWeights(weights);
  const optimizer = new AdamW(fullModelVariables(model), { learningRate: options.lr ?? 2e-3 });
  try {
    const batches = lengthBatches(examples, options.batchSize ?? 16);
    const steps = options.steps ?? Math.ceil((options.epochs ?? 1) * batches.length);
    const result = await trainLoop<SftExample[]>({
      objective: {
        variables: fullModelVariables(model),
        optimizer,
        loss: ([batch]) => sftLoss(model.weights, undefined, batch ?? []),
        tokens: (batch) => batch.reduce((sum, e) => sum + e.tokens.length, 0),
      },
      examples: batches,
      batchSize: 1,
      totalSteps: steps,
      learningRate: {
        peak: options.lr ?? 2e-3,
        warmupSteps: Math.min(50, Math.floor(steps / 10)),
        minRatio: 0.1,
      },
      maxGradNorm: 1,
      seed,
      settings: {
        objective: "organism-pretrain",
        corpus: JSON.stringify(corpusOptions),
        withoutEthics: options.withoutEthics ?? false,
        lr: options.lr ?? 2e-3,
      },
      checkpointDir: path.join(options.work, "checkpoints"),
      checkpointEvery: 50,
      resume: true,
      ...(options.stop ? { stop: options.stop } : {}),
      ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    });
    if (!result.stopped) {
      await mkdir(path.dirname(options.model), { recursive: true });
      await rm(options.model, { force: true });
      await writeGgufModel(options.model, model.weights, initial, { tensorType: "F16" });
    }
    return {
      documents: docs.length,
      tokens,
      parameters,
      result,
      seconds: (performance.now() - started) / 1000,
    };
  } finally {
    optimizer.dispose();
    disposeFullModel(model);
  }
}

/** Every document as tokens with the loss on all of them (the first excepted: nothing predicts it). */
async function tokenizeCorpus(model: string, docs: readonly CorpusDocument[]): Promise<SftExample[]> {
  const tokenizer = await openTokenizer(model);
  try {
    return docs.map((doc) => {
      const tokens =
        doc.kind === "text"
          ? tokenizer.renderer.textTokens(doc.text)
          : sftExampleFromMessages(tokenizer.renderer, doc.messages, { endOfTurn: tokenizer.endOfTurn })
              .tokens;
      return { tokens: [...tokens], lossMask: tokens.map((_, i) => (i === 0 ? 0 : 1)) };
    });
  } finally {
    await tokenizer.close();
  }
}
