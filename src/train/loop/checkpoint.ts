// Training checkpoints for an exact resume: the trained variables' values, the AdamW moments and update
// count, the global step, the data position (epoch and index in that epoch's seeded order) and the loss
// history. One file per checkpoint, `checkpoint-<step>.safetensors`: the tensors as F32 (`var.<i>`,
// `adam.m.<i>`, `adam.v.<i>`) and the rest as JSON in the `__metadata__` key `cai.checkpoint`. Written to a
// temporary file, flushed, then renamed, so a crash never leaves a partial checkpoint under a final name.
// The newest two are kept, the manifest holds the SHA-256 of the tensor data, and a resume whose newest
// checkpoint is damaged (cut short, overwritten, a flipped bit) falls back to the one before, saying so.
import { createHash } from "node:crypto";
import { mkdir, open, readdir, readFile, rename, rm } from "node:fs/promises";
import path from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import { CaiError } from "../../errors/cai-error.js";
import {
  decodeSafetensors,
  encodeSafetensors,
  float32Bytes,
  type SafetensorsTensorSpec,
} from "../formats/safetensors.js";
import type { AdamW, AdamWState } from "../objectives/sft.js";

/** Where the training loop is in its data: the epoch and the index in that epoch's shuffled order. */
export interface DataPosition {
  readonly epoch: number;
  readonly index: number;
}

/** What one optimizer step recorded. Plain numbers, so it round-trips through JSON exactly. */
export interface TrainStepRecord {
  /** The update number, 1-based. */
  readonly step: number;
  /** The training loss of the step's batch (mean over its micro-batches), before the update. */
  readonly loss: number;
  /** The learning rate the update used. */
  readonly learningRate: number;
  /** The global L2 norm of the accumulated gradient, before clipping. */
  readonly gradNorm: number;
  /** The global L2 norm of the gradient the optimizer received (after clipping). */
  readonly appliedGradNorm: number;
  /** The mean loss over the evaluation examples after the update, on evaluation steps only. */
  readonly evalLoss?: number;
  /** What else the objective logs per step (RL: reward, KL, entropy, …), by name. */
  readonly metrics?: Readonly<Record<string, number>>;
}

/** Everything an exact resume needs. */
export interface TrainCheckpoint {
  /** Updates done. */
  readonly step: number;
  /** The next example to draw. */
  readonly position: DataPosition;
  readonly history: readonly TrainStepRecord[];
  /** The trained variables' values, in the loop's variable order. */
  readonly variables: readonly { readonly shape: readonly number[]; readonly data: Float32Array }[];
  readonly optimizer: AdamWState;
  /**
   * The run's settings (base model, data, hyper-parameters, …) as flat JSON values: a resume with other
   * settings is refused ({@link settingDifferences}). Empty when the run recorded none.
   */
  readonly settings: Readonly<Record<string, TrainSetting>>;
}

/** One recorded setting of a training run. */
export type TrainSetting = string | number | boolean | null;

const metadataKey = "cai.checkpoint";
const filePattern = /^checkpoint-(\d+)\.safetensors$/;

/** A checkpoint of the current state: copies of `variables` and of `optimizer`'s state. */
export function captureCheckpoint(
  variables: readonly tf.Variable[],
  optimizer: AdamW,
  step: number,
  position: DataPosition,
  history: readonly TrainStepRecord[],
  settings: Readonly<Record<string, TrainSetting>> = {},
): TrainCheckpoint {
  return {
    step,
    position,
    history: [...history],
    settings: { ...settings },
    variables: variables.map((v) => ({ shape: [...v.shape], data: Float32Array.from(v.dataSync()) })),
    optimizer: optimizer.exportState(),
  };
}

/** Writes `checkpoint`'s values into `variables` and `optimizer`; throws CaiError when they do not fit. */
export function restoreCheckpoint(
  checkpoint: TrainCheckpoint,
  variables: readonly tf.Variable[],
  optimizer: AdamW,
): void {
  if (checkpoint.variables.length !== variables.length)
    throw new CaiError(
      `the checkpoint holds ${checkpoint.variables.length} variables, the adapter has ${variables.length}`,
    );
  variables.forEach((v, i) => {
    const saved = checkpoint.variables[i] as TrainCheckpoint["variables"][number];
    if (saved.shape.join(",") !== v.shape.join(","))
      throw new CaiError(
        `checkpoint variable ${i} has shape [${saved.shape.join(", ")}], the adapter's is [${v.shape.join(", ")}]`,
      );
  });
  optimizer.loadState(checkpoint.optimizer);
  variables.forEach((v, i) => {
    const saved = checkpoint.variables[i] as TrainCheckpoint["variables"][number];
    tf.tidy(() => v.assign(tf.tensor(saved.data, v.shape, "float32")));
  });
}

/** The file name of the checkpoint after `step` updates. */
export function checkpointFileName(step: number): string {
  return `checkpoint-${String(step).padStart(8, "0")}.safetensors`;
}

/**
 * Writes `checkpoint` atomically into `dir` (created if needed) and deletes all but the newest `keep`
 * checkpoints there. Returns the file's path.
 */
export async function saveCheckpoint(dir: string, checkpoint: TrainCheckpoint, keep = 2): Promise<string> {
  await mkdir(dir, { recursive: true });
  const tensors: SafetensorsTensorSpec[] = [];
  checkpoint.variables.forEach((v, i) => {
    tensors.push({ name: `var.${i}`, shape: v.shape, data: v.data });
  });
  checkpoint.optimizer.moments.forEach((data, i) => {
    tensors.push({ name: `adam.m.${i}`, shape: checkpoint.variables[i]?.shape ?? [data.length], data });
  });
  checkpoint.optimizer.squares.forEach((data, i) => {
    tensors.push({ name: `adam.v.${i}`, shape: checkpoint.variables[i]?.shape ?? [data.length], data });
  });
  const manifest = {
    version: 1,
    step: checkpoint.step,
    position: checkpoint.position,
    history: checkpoint.history,
    optimizerSteps: checkpoint.optimizer.steps,
    variables: checkpoint.variables.length,
    settings: checkpoint.settings,
    // The data section is these bytes in this order (see encodeSafetensors).
    dataSha256: sha256(tensors.map((t) => float32Bytes(t.data))),
  };
  const bytes = encodeSafetensors(tensors, { [metadataKey]: JSON.stringify(manifest) });
  const final = path.join(dir, checkpointFileName(checkpoint.step));
  const temporary = path.join(dir, `.${checkpointFileName(checkpoint.step)}.${process.pid}.tmp`);
  const handle = await open(temporary, "w");
  try {
    await handle.write(bytes);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(temporary, final);
  const steps = await checkpointSteps(dir);
  for (const old of steps.slice(0, Math.max(0, steps.length - Math.max(1, keep))))
    await rm(path.join(dir, checkpointFileName(old)), { force: true });
  return final;
}

function sha256(parts: readonly Uint8Array[]): string {
  const hash = createHash("sha256");
  for (const part of parts) hash.update(part);
  return hash.digest("hex");
}

/** The steps of the checkpoints in `dir`, ascending; empty when `dir` does not exist. */
async function checkpointSteps(dir: string): Promise<number[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw error;
  }
  return names
    .map((name) => filePattern.exec(name)?.[1])
    .filter((step): step is string => step !== undefined)
    .map(Number)
    .sort((a, b) => a - b);
}

/** Options of {@link loadLatestCheckpoint}. */
export interface LoadCheckpointOptions {
  /**
   * Told, in one sentence naming both files, when the newest checkpoint is damaged and an older one is
   * used instead. Default: ignored.
   */
  readonly onWarning?: (message: string) => void;
}

/**
 * The newest readable checkpoint in `dir`, or undefined when there is none. A damaged newer one is moved
 * aside (`<name>.damaged`) for the one before, and `onWarning` is told; when every checkpoint is damaged,
 * throws a CaiError naming each file and what is wrong with it (and moves nothing).
 */
export async function loadLatestCheckpoint(
  dir: string,
  options: LoadCheckpointOptions = {},
): Promise<TrainCheckpoint | undefined> {
  const steps = await checkpointSteps(dir);
  const damaged: { file: string; reason: string }[] = []; // newest first
  for (const step of steps.reverse()) {
    const file = path.join(dir, checkpointFileName(step));
    let checkpoint: TrainCheckpoint;
    try {
      checkpoint = await readCheckpoint(file, step);
    } catch (error) {
      // Damage is a CaiError from the parser; anything else (permissions, I/O) is not skipped silently.
      if (!CaiError.isInstance(error)) throw error;
      damaged.push({ file, reason: error.message });
      continue;
    }
    if (damaged.length > 0) {
      // Moved aside (not deleted: the bytes may tell what happened), so the next save's pruning keeps the
      // latest two good checkpoints rather than counting a damaged one.
      for (const d of damaged) await rename(d.file, `${d.file}.damaged`);
      const reasons = damaged.map((d) => `${d.reason} (moved aside to ${path.basename(d.file)}.damaged)`);
      const resuming = `resuming from the previous checkpoint, ${file} (step ${step})`;
      options.onWarning?.(`${reasons.join("; ")}; ${resuming}`);
    }
    return checkpoint;
  }
  if (damaged.length === 0) return undefined;
  const [newest, ...older] = damaged;
  if (older.length === 0 && newest) throw new CaiError(newest.reason);
  throw new CaiError(`no checkpoint in ${dir} can be read: ${damaged.map((d) => d.reason).join("; ")}`);
}

/** Reads and validates one checkpoint file; throws CaiError naming it when it is damaged. */
async function readCheckpoint(file: string, step: number): Promise<TrainCheckpoint> {
  const bytes = await readFile(file);
  const fail = (reason: string) => new CaiError(`${file} is not a valid cai checkpoint: ${reason}`);
  const { tensors, metadata } = decodeSafetensors(bytes, file);
  const text = metadata[metadataKey];
  if (text === undefined) throw fail(`its metadata has no ${metadataKey}`);
  const manifest = parseManifest(text);
  if (manifest === undefined) throw fail("its manifest is malformed");
  if (manifest.step !== step)
    throw fail(`its manifest is of step ${manifest.step}, its name of step ${step}`);
  if (manifest.dataSha256 !== undefined) {
    const headerLength = Number(Buffer.from(bytes.buffer, bytes.byteOffset, 8).readBigUInt64LE(0));
    if (sha256([bytes.subarray(8 + headerLength)]) !== manifest.dataSha256)
      throw fail("its tensor data does not match the checksum in its manifest (the file was altered)");
  }
  const tensor = (name: string) => {
    const found = tensors.get(name);
    if (!found) throw fail(`tensor ${name} is missing`);
    return { shape: [...found.shape], data: found.data };
  };
  const indices = Array.from({ length: manifest.variables }, (_, i) => i);
  return {
    step: manifest.step,
    position: manifest.position,
    history: manifest.history,
    settings: manifest.settings,
    variables: indices.map((i) => tensor(`var.${i}`)),
    optimizer: {
      steps: manifest.optimizerSteps,
      moments: indices.map((i) => tensor(`adam.m.${i}`).data),
      squares: indices.map((i) => tensor(`adam.v.${i}`).data),
    },
  };
}

interface Manifest {
  readonly step: number;
  readonly position: DataPosition;
  readonly history: TrainStepRecord[];
  readonly optimizerSteps: number;
  readonly variables: number;
  readonly settings: Record<string, TrainSetting>;
  /** SHA-256 (hex) of the data section; absent in checkpoints written before it was recorded. */
  readonly dataSha256?: string;
}

/**
 * The settings that differ between a checkpoint and a run, by key (a key missing on one side counts as
 * different). Keys in `ignore` are not compared.
 */
export function settingDifferences(
  checkpoint: Readonly<Record<string, TrainSetting>>,
  run: Readonly<Record<string, TrainSetting>>,
  ignore: readonly string[] = [],
): { key: string; checkpoint: TrainSetting | undefined; run: TrainSetting | undefined }[] {
  const keys = [...new Set([...Object.keys(checkpoint), ...Object.keys(run)])].filter(
    (key) => !ignore.includes(key),
  );
  return keys
    .sort()
    .filter((key) => checkpoint[key] !== run[key])
    .map((key) => ({ key, checkpoint: checkpoint[key], run: run[key] }));
}

function isSetting(value: unknown): value is TrainSetting {
  return value === null || ["string", "number", "boolean"].includes(typeof value);
}

function isNatural(value: unknown): value is number {
  return typeof value === "number" && Number.isInteger(value) && value >= 0;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isStepRecord(value: unknown): value is TrainStepRecord {
  if (!isRecord(value)) return false;
  const numbers = ["step", "loss", "learningRate", "gradNorm", "appliedGradNorm"];
  return (
    numbers.every((key) => typeof value[key] === "number") &&
    (value.evalLoss === undefined || typeof value.evalLoss === "number") &&
    (value.metrics === undefined ||
      (isRecord(value.metrics) && Object.values(value.metrics).every((m) => typeof m === "number")))
  );
}

/** The manifest in `text`, or undefined when it does not have the expected shape. */
function parseManifest(text: string): Manifest | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!isRecord(value) || value.version !== 1) return undefined;
  const { step, position, history, optimizerSteps, variables } = value;
  const settings = value.settings ?? {};
  if (!isRecord(settings) || !Object.values(settings).every(isSetting)) return undefined;
  if (!isNatural(step) || !isNatural(optimizerSteps) || !isNatural(variables)) return undefined;
  if (!isRecord(position) || !isNatural(position.epoch) || !isNatural(position.index)) return undefined;
  if (!Array.isArray(history) || !history.every(isStepRecord)) return undefined;
  const { dataSha256 } = value;
  if (dataSha256 !== undefined && (typeof dataSha256 !== "string" || !/^[0-9a-f]{64}$/.test(dataSha256)))
    return undefined;
  return {
    ...(dataSha256 === undefined ? {} : { dataSha256 }),
    step,
    position: { epoch: position.epoch, index: position.index },
    history,
    optimizerSteps,
    variables,
    settings: settings as Record<string, TrainSetting>,
  };
}
