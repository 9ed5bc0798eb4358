// The training loop: a seeded shuffle of the examples every epoch, gradient accumulation over micro-batches,
// global-norm clipping, AdamW at a warmup + cosine learning rate, periodic evaluation, progress reports and
// atomic checkpoints that resume exactly (same history, bit for bit, as an uninterrupted run).
// The objective is pluggable ({@link TrainObjective}): {@link sftObjective} for SFT; DPO can supply its own.
import * as tf from "@tensorflow/tfjs-core";
import { CaiError } from "../../errors/cai-error.js";
import { SeededRandom } from "../../random/seeded-random.js";
import { loraVariables } from "../model/lora.js";
import { type AdamW, type SftExample, type SftTrainer, sftLoss } from "../objectives/sft.js";
import {
  captureCheckpoint,
  type DataPosition,
  loadLatestCheckpoint,
  restoreCheckpoint,
  saveCheckpoint,
  settingDifferences,
  type TrainSetting,
  type TrainStepRecord,
} from "./checkpoint.js";
import { CheckpointMismatchError } from "./checkpoint-mismatch-error.js";
import { lrAt } from "./schedule.js";

export type { DataPosition, TrainSetting, TrainStepRecord } from "./checkpoint.js";

/** Where in training a loss is computed. */
export interface LossContext {
  /** The update being computed, 1-based. */
  readonly step: number;
  /** The micro-batch within the update, 0-based. */
  readonly microBatch: number;
}

/** What the loop trains: variables, their optimizer and a differentiable loss over a micro-batch. */
export interface TrainObjective<E> {
  /** The trained variables, in a fixed order (the checkpoint's). */
  readonly variables: readonly tf.Variable[];
  /** AdamW over exactly `variables`, in the same order. */
  readonly optimizer: AdamW;
  /**
   * A scalar loss of one micro-batch; a mean over its examples, so accumulation averages it. `context` is
   * given for training steps (not for evaluation): which update and micro-batch, e.g. to seed dropout.
   */
  readonly loss: (batch: readonly E[], context?: LossContext) => tf.Scalar;
  /** Tokens one example feeds through the model (for tokens/s). Default 0. */
  readonly tokens?: (example: E) => number;
}

/** The SFT objective of `trainer`: {@link sftLoss} over its adapter's variables. */
export function sftObjective(trainer: SftTrainer): TrainObjective<SftExample> {
  return {
    variables: loraVariables(trainer.lora),
    optimizer: trainer.optimizer,
    loss: (batch) => sftLoss(trainer.weights, trainer.lora, batch),
    tokens: (example) => example.tokens.length,
  };
}

/** A progress report, after every update. */
export interface TrainProgress {
  readonly step: number;
  readonly totalSteps: number;
  readonly loss: number;
  readonly learningRate: number;
  /** Present on evaluation steps. */
  readonly evalLoss?: number;
  /** Tokens per second over this run so far (not counting steps restored from a checkpoint). */
  readonly tokensPerSecond: number;
  /** Estimated seconds until `totalSteps`, from this run's mean step time. */
  readonly etaSeconds: number;
}

/** Options of {@link trainLoop}. */
export interface TrainLoopOptions<E> {
  readonly objective: TrainObjective<E>;
  readonly examples: readonly E[];
  /** Evaluated every `evalEvery` updates (mean loss over micro-batches of `batchSize`). */
  readonly evalExamples?: readonly E[];
  /** Examples per micro-batch (one forward/backward pass). */
  readonly batchSize: number;
  /** Micro-batches whose gradients are averaged into one update. Default 1. */
  readonly gradAccumulation?: number;
  /** Global L2 norm the gradient is clipped to before the update. Default: no clipping. */
  readonly maxGradNorm?: number;
  /** Updates to reach (counting those restored from a checkpoint). */
  readonly totalSteps: number;
  /** The peak learning rate, warmup and floor of the schedule ({@link lrAt}); totalSteps is the loop's. */
  readonly learningRate: { readonly peak: number; readonly warmupSteps?: number; readonly minRatio?: number };
  /** Evaluate every this many updates. Default: never. */
  readonly evalEvery?: number;
  /** Seed of the per-epoch shuffles. Default 0. */
  readonly seed?: number;
  /** Where checkpoints go; the loop resumes from the newest one found there. */
  readonly checkpointDir?: string;
  /**
   * The run's settings, recorded in every checkpoint; resuming from a checkpoint whose settings differ
   * throws {@link CheckpointMismatchError}. `totalSteps` is not compared: a run may be extended.
   */
  readonly settings?: Readonly<Record<string, TrainSetting>>;
  /**
   * Whether to continue from the newest checkpoint in `checkpointDir`. Default true; when false and a
   * checkpoint is there, the loop throws rather than overwrite an earlier run.
   */
  readonly resume?: boolean;
  /** Checkpoint every this many updates (and at the end, and when stopped). Default 100. */
  readonly checkpointEvery?: number;
  /** Checked between updates: when aborted the loop checkpoints and returns. */
  readonly stop?: AbortSignal;
  readonly onProgress?: (progress: TrainProgress) => void;
  /** Told when the newest checkpoint is damaged and the one before is resumed from. Default: ignored. */
  readonly onWarning?: (message: string) => void;
}

/** What {@link trainLoop} returns. */
export interface TrainLoopResult {
  /** Every update's record, from step 1 (including those restored from a checkpoint). */
  readonly history: readonly TrainStepRecord[];
  /** Updates done. */
  readonly step: number;
  /** The step the run resumed from (0 for a fresh start). */
  readonly resumedFrom: number;
  /** True when `stop` ended the run before `totalSteps`. */
  readonly stopped: boolean;
}

/** The order of epoch `epoch`'s examples: a Fisher–Yates shuffle seeded by (seed, epoch). */
export function epochOrder(count: number, seed: number, epoch: number): number[] {
  const random = new SeededRandom((Math.imul(seed | 0, 0x9e3779b1) ^ Math.imul(epoch + 1, 0x85ebca6b)) | 0);
  const order = Array.from({ length: count }, (_, i) => i);
  for (let i = count - 1; i > 0; i -= 1) {
    const j = random.int(i + 1);
    [order[i], order[j]] = [order[j] as number, order[i] as number];
  }
  return order;
}

/** Draws examples in per-epoch shuffled order, from a position that a checkpoint can store. */
class ExampleStream {
  private order: number[];
  private position: DataPosition;

  constructor(
    private readonly count: number,
    private readonly seed: number,
    start: DataPosition,
  ) {
    this.position = start;
    this.order = epochOrder(count, seed, start.epoch);
  }

  get current(): DataPosition {
    return this.position;
  }

  next(): number {
    if (this.position.index >= this.count) {
      this.position = { epoch: this.position.epoch + 1, index: 0 };
      this.order = epochOrder(this.count, this.seed, this.position.epoch);
    }
    const example = this.order[this.position.index] as number;
    this.position = { epoch: this.position.epoch, index: this.position.index + 1 };
    return example;
  }
}

/** The global L2 norm of `tensors`, as a JS number (summed in float64). */
export function globalNorm(tensors: readonly tf.Tensor[]): number {
  let sum = 0;
  for (const t of tensors) sum += tf.tidy(() => tf.sum(tf.square(t)).dataSync()[0] ?? Number.NaN);
  return Math.sqrt(sum);
}

function positiveInteger(value: number, name: string): number {
  if (!Number.isInteger(value) || value < 1)
    throw new CaiError(`${name} must be a positive integer, not ${value}`);
  return value;
}

/** The mean loss over `examples` in micro-batches of `batchSize`, weighted by batch size. */
export function evaluate<E>(objective: TrainObjective<E>, examples: readonly E[], batchSize: number): number {
  let total = 0;
  for (let start = 0; start < examples.length; start += batchSize) {
    const batch = examples.slice(start, start + batchSize);
    total += tf.tidy(() => objective.loss(batch).dataSync()[0] ?? Number.NaN) * batch.length;
  }
  return total / examples.length;
}

/**
 * The mean loss and the mean gradient (one tensor per variable, in `objective.variables`' order; the caller
 * disposes them) over `microBatches`: with a per-example mean loss and equal micro-batches, the same as
 * one batch of all their examples.
 */
export function accumulateGradients<E>(
  objective: TrainObjective<E>,
  microBatches: readonly (readonly E[])[],
  step = 1,
): { loss: number; grads: tf.Tensor[] } {
  const { variables } = objective;
  let sum: tf.Tensor[] | undefined;
  let loss = 0;
  for (const [microBatch, batch] of microBatches.entries()) {
    const context = { step, microBatch };
    const { value, grads } = tf.variableGrads(() => objective.loss(batch, context), [...variables]);
    loss += value.dataSync()[0] ?? Number.NaN;
    value.dispose();
    const ordered = variables.map((v) => {
      const g = grads[v.name];
      if (!g) throw new CaiError(`the loss has no gradient for variable ${v.name}`);
      return g;
    });
    if (sum === undefined) sum = ordered;
    else {
      const previous = sum;
      sum = previous.map((s, i) => tf.add(s, ordered[i] as tf.Tensor));
      tf.dispose([...previous, ...ordered]);
    }
  }
  if (sum === undefined) throw new CaiError("an update needs at least one micro-batch");
  const count = microBatches.length;
  if (count === 1) return { loss, grads: sum };
  const summed = sum;
  const grads = summed.map((g) => tf.mul(g, 1 / count));
  tf.dispose(summed);
  return { loss: loss / count, grads };
}

/**
 * One update: {@link accumulateGradients} over `microBatches`, global-norm clipping to `maxGradNorm`, then
 * AdamW at `learningRate`. Returns the record (without eval loss).
 */
export function accumulatedStep<E>(
  objective: TrainObjective<E>,
  microBatches: readonly (readonly E[])[],
  learningRate: number,
  step: number,
  maxGradNorm?: number,
): TrainStepRecord {
  const { loss, grads: mean } = accumulateGradients(objective, microBatches, step);
  const gradNorm = globalNorm(mean);
  const clip = maxGradNorm !== undefined && gradNorm > maxGradNorm;
  const applied = clip ? mean.map((g) => tf.mul(g, maxGradNorm / (gradNorm + 1e-6))) : mean;
  try {
    const appliedGradNorm = clip ? globalNorm(applied) : gradNorm;
    objective.optimizer.apply(applied, learningRate);
    return { step, loss, learningRate, gradNorm, appliedGradNorm };
  } finally {
    tf.dispose(mean);
    if (clip) tf.dispose(applied);
  }
}

/** Where a run starts: nothing done, or the state of the newest checkpoint. */
export interface RestoredRun {
  readonly step: number;
  readonly position: DataPosition;
  readonly history: TrainStepRecord[];
}

/**
 * The start of a checkpointed run: a fresh one when `checkpointDir` holds no checkpoint; with one, an error
 * unless `resume` (a second run must not overwrite the first by accident), a CheckpointMismatchError when
 * its settings differ from `settings`, else its variables and optimizer state restored into `objective`.
 */
export async function restoreRun(options: {
  readonly checkpointDir: string | undefined;
  readonly resume: boolean | undefined;
  readonly settings: Readonly<Record<string, TrainSetting>>;
  readonly objective: Pick<TrainObjective<unknown>, "variables" | "optimizer">;
  /** How many examples the data position indexes (a position past them is refused). */
  readonly dataSize: number;
  readonly onWarning?: (message: string) => void;
}): Promise<RestoredRun> {
  const { checkpointDir, objective } = options;
  const fresh: RestoredRun = { step: 0, position: { epoch: 0, index: 0 }, history: [] };
  if (checkpointDir === undefined) return fresh;
  const resumed = await loadLatestCheckpoint(
    checkpointDir,
    options.onWarning ? { onWarning: options.onWarning } : {},
  );
  if (!resumed) return fresh;
  if (options.resume === false)
    throw new CaiError(
      `${checkpointDir} holds a checkpoint of an earlier run (step ${resumed.step}); resume it (--resume) or choose another output directory`,
    );
  const differences = settingDifferences(resumed.settings, options.settings);
  if (differences.length > 0) throw new CheckpointMismatchError(checkpointDir, differences);
  if (resumed.position.index > options.dataSize)
    throw new CaiError(
      `the checkpoint's data position ${resumed.position.index} is past the ${options.dataSize} examples`,
    );
  restoreCheckpoint(resumed, objective.variables, objective.optimizer);
  return { step: resumed.step, position: resumed.position, history: [...resumed.history] };
}

/**
 * Trains `options.objective` to `totalSteps` updates (see {@link TrainLoopOptions}), resuming from the newest
 * checkpoint in `checkpointDir` when there is one. Each update draws batchSize × gradAccumulation examples
 * from the seeded per-epoch order (micro-batches may straddle epochs). Returns the history.
 */
export async function trainLoop<E>(options: TrainLoopOptions<E>): Promise<TrainLoopResult> {
  const { objective, examples, evalExamples, maxGradNorm, stop, onProgress, checkpointDir } = options;
  const batchSize = positiveInteger(options.batchSize, "batchSize");
  const accumulation = positiveInteger(options.gradAccumulation ?? 1, "gradAccumulation");
  const totalSteps = positiveInteger(options.totalSteps, "totalSteps");
  const checkpointEvery = positiveInteger(options.checkpointEvery ?? 100, "checkpointEvery");
  const evalEvery =
    options.evalEvery === undefined ? undefined : positiveInteger(options.evalEvery, "evalEvery");
  const seed = options.seed ?? 0;
  if (examples.length === 0) throw new CaiError("training needs at least one example");
  if (maxGradNorm !== undefined && !(maxGradNorm > 0))
    throw new CaiError(`maxGradNorm must be positive, not ${maxGradNorm}`);
  const schedule = {
    peak: options.learningRate.peak,
    warmupSteps: options.learningRate.warmupSteps ?? 0,
    totalSteps,
    ...(options.learningRate.minRatio === undefined ? {} : { minRatio: options.learningRate.minRatio }),
  };

  const settings = options.settings ?? {};
  const restored = await restoreRun({
    checkpointDir,
    resume: options.resume,
    settings,
    objective,
    dataSize: examples.length,
    ...(options.onWarning ? { onWarning: options.onWarning } : {}),
  });
  let step = restored.step;
  const position = restored.position;
  const history: TrainStepRecord[] = restored.history;
  const resumedFrom = step;
  const stream = new ExampleStream(examples.length, seed, position);
  const save = async (): Promise<void> => {
    if (checkpointDir === undefined) return;
    const checkpoint = captureCheckpoint(
      objective.variables,
      objective.optimizer,
      step,
      stream.current,
      history,
      settings,
    );
    await saveCheckpoint(checkpointDir, checkpoint);
  };
  let saved = step;
  const started = performance.now();
  let tokens = 0;

  while (step < totalSteps && !stop?.aborted) {
    const microBatches: E[][] = [];
    for (let m = 0; m < accumulation; m += 1) {
      const batch: E[] = [];
      for (let b = 0; b < batchSize; b += 1) batch.push(examples[stream.next()] as E);
      microBatches.push(batch);
    }
    const learningRate = lrAt(step + 1, schedule);
    let record = accumulatedStep(objective, microBatches, learningRate, step + 1, maxGradNorm);
    step += 1;
    if (evalExamples && evalExamples.length > 0 && evalEvery !== undefined && step % evalEvery === 0)
      record = { ...record, evalLoss: evaluate(objective, evalExamples, batchSize) };
    history.push(record);
    if (objective.tokens)
      for (const batch of microBatches) for (const example of batch) tokens += objective.tokens(example);
    if (onProgress) {
      const seconds = (performance.now() - started) / 1000;
      const perStep = seconds / (step - resumedFrom);
      onProgress({
        step,
        totalSteps,
        loss: record.loss,
        learningRate,
        ...(record.evalLoss === undefined ? {} : { evalLoss: record.evalLoss }),
        tokensPerSecond: seconds > 0 ? tokens / seconds : 0,
        etaSeconds: perStep * (totalSteps - step),
      });
    }
    if (step % checkpointEvery === 0 || step === totalSteps) {
      await save();
      saved = step;
    }
    // An update is synchronous work: yield to the event loop so a SIGINT handler can fire `stop` now,
    // not at the next checkpoint's file I/O.
    await new Promise((resolve) => setImmediate(resolve));
  }
  if (saved !== step) await save();
  return { history, step, resumedFrom, stopped: step < totalSteps };
}
