// `cai train rm` as a library call: the preference (reward) model of RL-CAI — the base GGUF model, a LoRA
// adapter and a scalar head on the last token — trained with the soft-target Bradley–Terry loss on
// preference pairs (the layouts preference-data.ts reads; `p_chosen` soft labels from AI feedback become
// the targets). Held-out accuracy and calibration are measured before and after, and the model is written
// as a directory that `reward:DIR` loads as a scorer (load-reward-model.ts).
import path from "node:path";
import { preferencePairLoader } from "../data/preference-data.js";
import {
  freshAdapterPath,
  inputSettings,
  loadRunData,
  runPlan,
  runTrainLoop,
  type TrainRunOptions,
  type TrainRunResult,
} from "../loop/training-run.js";
import { initTrainingBackend } from "../model/backend.js";
import { createLora, disposeLora } from "../model/lora.js";
import { disposeWeights, loadWeights } from "../model/weights.js";
import {
  createRewardHead,
  disposeRewardHead,
  evaluateRewardModel,
  type RewardEvaluation,
  rewardMetrics,
  rewardObjective,
  writeRewardModel,
} from "./reward-model.js";

/**
 * Options of {@link trainRewardModel}. `data` (and `evalData`) hold preference pairs; the default learning
 * rate is 1e-4. The output directory receives `checkpoints/` and `reward-step<N>-<time>/`.
 */
export type TrainRewardModelOptions = TrainRunOptions;

/** What {@link trainRewardModel} produced. */
export interface TrainRewardModelResult extends TrainRunResult {
  /** The reward model directory (load it as `reward:<output>`). */
  readonly output: string;
  /** Pairs trained on. */
  readonly pairs: number;
  /** With `evalData`: held-out accuracy, loss and calibration before and after this run's updates. */
  readonly eval?: { readonly start: RewardEvaluation; readonly end: RewardEvaluation };
}

/**
 * Reads the pairs of `file` as whole conversations (each answer followed by the end-of-turn token, as the
 * scorer renders them). A pair with a side longer than `maxLength` is skipped, not cut: the score is read
 * at the last token, which a cut would move into the middle of the answer.
 */
const loadPairs = preferencePairLoader((pair, maxLength) =>
  Math.max(pair.chosen.tokens.length, pair.rejected.tokens.length) > maxLength
    ? { skip: `longer than ${maxLength} tokens` }
    : { pair },
);

/**
 * Trains a reward model on `options.base` from the pairs of `options.data` (checkpoints in
 * `out/checkpoints`; with `resume`, a rerun continues) and writes it to `out/reward-step<N>-<time>/`
 * (a new directory every time: llama.cpp caches adapters by path).
 */
export async function trainRewardModel(options: TrainRewardModelOptions): Promise<TrainRewardModelResult> {
  const rank = options.rank ?? 8;
  const alpha = options.alpha ?? 16;
  const dropout = options.dropout ?? 0;
  const plan = runPlan(options, 1e-4);
  const { batchSize, lr, seed } = plan;

  await initTrainingBackend();
  const weights = await loadWeights(options.base);
  try {
    const data = await loadRunData(options, weights.config, loadPairs);
    const lora = createLora(weights, {
      rank,
      alpha,
      seed,
      dropout,
      ...(options.targets ? { targets: options.targets } : {}),
    });
    const head = createRewardHead(weights.config.embeddingLength, { seed });
    const objective = rewardObjective(weights, lora, head, { learningRate: lr, seed });
    try {
      const settings = {
        objective: "reward-lora",
        ...(await inputSettings(options.base, { data: options.data, evalData: options.evalData })),
        rank,
        alpha,
        dropout,
        targets: [...lora.targets].sort().join(","),
        lr,
        batchSize,
        seed,
        maxLength: data.maxLength,
        endOfTurn: data.endOfTurn.join(","),
      };
      const evaluate = () => evaluateRewardModel(weights, lora, head, data.held, { batchSize: 8 });
      const evalStart = data.held.length > 0 ? evaluate() : undefined;
      const result = await runTrainLoop(options, plan, {
        objective,
        examples: data.examples,
        held: data.held,
        settings,
      });
      const evalEnd = evalStart === undefined ? undefined : evaluate();
      const stem = path.basename(await freshAdapterPath(options.out, result.step, "reward"), ".gguf");
      const written = await writeRewardModel(path.join(options.out, stem), {
        base: options.base,
        lora,
        head,
        config: weights.config,
        endOfTurn: data.endOfTurn,
        settings,
        ...(evalEnd === undefined ? {} : { metrics: rewardMetrics(evalEnd) }),
      });
      return {
        output: written.dir,
        step: result.step,
        resumedFrom: result.resumedFrom,
        stopped: result.stopped,
        pairs: data.examples.length,
        skipped: data.skipped,
        firstLoss: result.history[0]?.loss ?? Number.NaN,
        finalLoss: result.history.at(-1)?.loss ?? Number.NaN,
        ...(evalStart === undefined || evalEnd === undefined
          ? {}
          : { eval: { start: evalStart, end: evalEnd } }),
      };
    } finally {
      objective.optimizer.dispose();
      disposeRewardHead(head);
      disposeLora(lora);
    }
  } finally {
    disposeWeights(weights);
  }
}
