// `cai train dpo` as a library call: DPO of a LoRA adapter on a GGUF base model from preference pairs
// (preference-data.ts reads the layouts: TRL, hh-rlhf, OpenAI, `cai export`, `cai label` soft labels).
// The reference model is the base without the adapter; its log-probabilities of every pair are computed
// once, before training, and kept in `out/reference-logprobs.json` (keyed by the inputs, so a resumed
// run reuses them instead of recomputing).
import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import { CaiError } from "../errors/cai-error.js";
import { preferencePairLoader } from "./data/preference-data.js";
import type { TrainSetting } from "./loop/checkpoint.js";
import type { TrainObjective } from "./loop/train-loop.js";
import {
  type AdapterOutputs,
  fitLength,
  inputSettings,
  loadRunData,
  runPlan,
  runTrainLoop,
  type TrainRunOptions,
  type TrainRunResult,
  writeAdapterOutputs,
} from "./loop/training-run.js";
import { initTrainingBackend } from "./model/backend.js";
import {
  createLora,
  disposeLora,
  dropoutSeed,
  loraTargets,
  loraVariables,
  withLoraDropout,
} from "./model/lora.js";
import { disposeWeights, loadWeights, type TransformerWeights } from "./model/weights.js";
import {
  type DpoPair,
  dpoLoss,
  dpoMargins,
  type ReferenceLogprobs,
  referenceLogprobs,
} from "./objectives/dpo.js";
import { preferenceAccuracy } from "./objectives/preference-loss.js";
import { AdamW } from "./objectives/sft.js";

/**
 * Options of {@link trainDpo}. `data` (and `evalData`) hold preference pairs (see preference-data.ts);
 * the base model is also the frozen reference. Default learning rate 5e-5.
 */
export interface TrainDpoOptions extends TrainRunOptions {
  /** β, the strength of the pull toward the reference. Default 0.1. */
  readonly beta?: number;
}

/** Held-out figures of a DPO run at one point. */
export interface DpoEvaluation {
  /** Mean soft-label DPO loss. */
  readonly loss: number;
  /** Mean margin β·[(log π(c) − log π_ref(c)) − (log π(r) − log π_ref(r))]; 0 for the reference itself. */
  readonly margin: number;
  /** Share of pairs whose margin favours the side their label favours. */
  readonly accuracy: number;
}

/** What {@link trainDpo} produced. */
export interface TrainDpoResult extends AdapterOutputs, TrainRunResult {
  /** Pairs trained on. */
  readonly pairs: number;
  /** With `evalData`: the held-out figures before and after this run's updates. */
  readonly eval?: { readonly start: DpoEvaluation; readonly end: DpoEvaluation };
}

/** A pair with its reference log-probabilities: one training example of the DPO objective. */
export interface DpoExample {
  readonly pair: DpoPair;
  readonly reference: ReferenceLogprobs;
}

/** Preference files for DPO: each side cut to the length limit, a pair skipped when an answer is cut away. */
const loadPairs = preferencePairLoader((pair, maxLength) => {
  const chosen = fitLength(pair.chosen, maxLength);
  const rejected = fitLength(pair.rejected, maxLength);
  if (chosen === undefined || rejected === undefined)
    return { skip: `an answer starts after ${maxLength} tokens` };
  if (chosen === pair.chosen && rejected === pair.rejected) return { pair };
  return { pair: { ...pair, chosen, rejected }, note: `cut to ${maxLength} tokens` };
});

/**
 * The reference log-probabilities of `pairs`, from `cache` when it was written for the same inputs
 * (`key`), else computed (one forward pass per side) and written there.
 */
async function cachedReference(
  weights: TransformerWeights,
  pairs: readonly DpoPair[],
  cache: string,
  key: Readonly<Record<string, TrainSetting>>,
): Promise<ReferenceLogprobs[]> {
  const keyText = JSON.stringify(key);
  try {
    const saved = JSON.parse(await readFile(cache, "utf8")) as {
      key?: string;
      logprobs?: ReferenceLogprobs[];
    };
    if (saved.key === keyText && Array.isArray(saved.logprobs) && saved.logprobs.length === pairs.length)
      return saved.logprobs;
  } catch {
    // No cache yet, or an unreadable one: compute.
  }
  const logprobs = referenceLogprobs(weights, pairs);
  await writeFile(cache, `${JSON.stringify({ key: keyText, logprobs })}\n`);
  return logprobs;
}

/** The DPO objective over `examples`' adapter variables (AdamW included). */
function dpoObjective(
  weights: TransformerWeights,
  lora: ReturnType<typeof createLora>,
  beta: number,
  lr: number,
  seed: number,
): TrainObjective<DpoExample> {
  const variables = loraVariables(lora);
  return {
    variables,
    optimizer: new AdamW(variables, { learningRate: lr }),
    loss: (batch, context) => {
      const loss = () =>
        dpoLoss(
          weights,
          lora,
          batch.map((e) => e.pair),
          batch.map((e) => e.reference),
          { beta },
        );
      if (context === undefined) return loss();
      return withLoraDropout(lora.dropout, dropoutSeed(seed, context.step, context.microBatch), loss);
    },
    tokens: (e) => e.pair.chosen.tokens.length + e.pair.rejected.tokens.length,
  };
}

/** Held-out loss, mean margin and accuracy of the policy (base + `lora`) on `examples`. */
export function evaluateDpo(
  weights: TransformerWeights,
  lora: ReturnType<typeof createLora> | undefined,
  examples: readonly DpoExample[],
  beta: number,
): DpoEvaluation {
  const pairs = examples.map((e) => e.pair);
  const reference = examples.map((e) => e.reference);
  const margins = tf.tidy(() => Array.from(dpoMargins(weights, lora, pairs, reference, { beta }).dataSync()));
  const targets = pairs.map((p) => p.target ?? 1);
  const loss = tf.tidy(() => dpoLoss(weights, lora, pairs, reference, { beta }).dataSync()[0] ?? Number.NaN);
  return {
    loss,
    margin: margins.reduce((sum, m) => sum + m, 0) / margins.length,
    accuracy: preferenceAccuracy(margins, targets),
  };
}

/**
 * Trains a LoRA adapter on `options.base` by DPO on the pairs of `options.data` (checkpoints in
 * `out/checkpoints`; a rerun resumes) and writes `out/adapter-step<N>-<time>.gguf` and `out/peft/`.
 */
export async function trainDpo(options: TrainDpoOptions): Promise<TrainDpoResult> {
  const beta = options.beta ?? 0.1;
  const rank = options.rank ?? 8;
  const targets = options.targets ?? loraTargets;
  const dropout = options.dropout ?? 0;
  const alpha = options.alpha ?? 16;
  const plan = runPlan(options, 5e-5);
  const { batchSize, lr, seed } = plan;
  if (!(beta > 0 && Number.isFinite(beta))) throw new CaiError(`DPO's beta must be positive, not ${beta}`);

  await initTrainingBackend();
  const weights = await loadWeights(options.base);
  try {
    const data = await loadRunData(options, weights.config, loadPairs);
    const { maxLength } = data;
    const inputs = await inputSettings(options.base, { data: options.data, evalData: options.evalData });
    const settings = {
      objective: "dpo-lora",
      ...inputs,
      beta,
      rank,
      alpha,
      targets: [...targets].sort().join(","),
      dropout,
      lr,
      batchSize,
      seed,
      maxLength,
      endOfTurn: data.endOfTurn.join(","),
    };
    await mkdir(options.out, { recursive: true });
    const cacheKey = { ...inputs, maxLength, endOfTurn: settings.endOfTurn };
    const trainReference = await cachedReference(
      weights,
      data.examples,
      path.join(options.out, "reference-logprobs.json"),
      { ...cacheKey, set: "data" },
    );
    const heldReference =
      data.held.length === 0
        ? []
        : await cachedReference(weights, data.held, path.join(options.out, "reference-logprobs-eval.json"), {
            ...cacheKey,
            set: "evalData",
          });
    const examples = data.examples.map((pair, i) => ({
      pair,
      reference: trainReference[i] as ReferenceLogprobs,
    }));
    const held = data.held.map((pair, i) => ({ pair, reference: heldReference[i] as ReferenceLogprobs }));

    const lora = createLora(weights, { rank, alpha, seed, targets, dropout });
    const objective = dpoObjective(weights, lora, beta, lr, seed);
    try {
      const evalStart = held.length > 0 ? evaluateDpo(weights, lora, held, beta) : undefined;
      const result = await runTrainLoop(options, plan, { objective, examples, held, settings });
      const outputs = await writeAdapterOutputs(options.out, lora, weights.config, result.step, options);
      return {
        ...outputs,
        output: outputs.adapter,
        step: result.step,
        resumedFrom: result.resumedFrom,
        stopped: result.stopped,
        pairs: examples.length,
        skipped: data.skipped,
        firstLoss: result.history[0]?.loss ?? Number.NaN,
        finalLoss: result.history.at(-1)?.loss ?? Number.NaN,
        ...(evalStart === undefined
          ? {}
          : { eval: { start: evalStart, end: evaluateDpo(weights, lora, held, beta) } }),
      };
    } finally {
      objective.optimizer.dispose();
      disposeLora(lora);
    }
  } finally {
    disposeWeights(weights);
  }
}
