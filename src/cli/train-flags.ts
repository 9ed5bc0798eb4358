// Flag parsers and the run wrapper every `cai train` subcommand shares (sft, dpo, rm, rl).
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { InvalidArgumentError } from "commander";
import { type CurveSeries, trainingCurvesSvg } from "../eval/report/training-curves.js";
import { lockRunDir } from "../runs/run-dir-lock.js";
import { loadLatestCheckpoint, type TrainStepRecord } from "../train/loop/checkpoint.js";
import { type LoraTarget, loraTargets } from "../train/model/lora.js";
import { stopOnSigint } from "./stop-on-sigint.js";

/** Parses a positive number flag (e.g. a learning rate). */
export function positiveFlag(name: string): (value: string) => number {
  return (value: string) => {
    const n = Number(value);
    if (!(Number.isFinite(n) && n > 0))
      throw new InvalidArgumentError(`${name} must be a positive number, got "${value}"`);
    return n;
  };
}

/**
 * Runs `train` holding --out's lock (a second process there is refused) and with a SIGINT handler whose
 * signal stops training after the update in flight.
 */
export async function withStop<T>(out: string, train: (stop: AbortSignal) => Promise<T>): Promise<T> {
  const lock = lockRunDir(out);
  const stop = stopOnSigint();
  try {
    return await train(stop.signal);
  } finally {
    stop.dispose();
    lock.release();
  }
}

/** Parses `--targets`: llama.cpp (attn_q) or Hugging Face (q_proj) names, comma-separated. */
export function targetsFlag(value: string): LoraTarget[] {
  const aliases: Record<string, LoraTarget> = {
    q_proj: "attn_q",
    k_proj: "attn_k",
    v_proj: "attn_v",
    o_proj: "attn_output",
    gate_proj: "ffn_gate",
    up_proj: "ffn_up",
    down_proj: "ffn_down",
  };
  const targets = value.split(",").map((name) => {
    const trimmed = name.trim();
    const target = aliases[trimmed] ?? trimmed;
    if (!(loraTargets as readonly string[]).includes(target))
      throw new InvalidArgumentError(
        `unknown LoRA target "${trimmed}"; use ${loraTargets.join(", ")} or ${Object.keys(aliases).join(", ")}`,
      );
    return target as LoraTarget;
  });
  return [...new Set(targets)];
}

/** `--base-model-id` (sft and dpo, which write a PEFT adapter): the base its adapter_config.json names. */
export const baseModelIdHelp =
  "the Hugging Face model (ORG/NAME) the PEFT adapter names as its base (default: the one the GGUF's metadata names)";

export function baseModelIdFlag(value: string): string {
  if (value.trim() === "") throw new InvalidArgumentError("--base-model-id must not be empty");
  return value.trim();
}

/**
 * Writes `out/curves.svg`, the run's training curves (from `history`, or the newest checkpoint's), and says
 * where on stderr. A chart that cannot be drawn is a warning, never a failed run.
 */
export async function writeTrainingCurves(
  out: string,
  series: readonly CurveSeries[],
  title: string,
  history?: readonly TrainStepRecord[],
): Promise<void> {
  try {
    const steps = history ?? (await loadLatestCheckpoint(path.join(out, "checkpoints")))?.history ?? [];
    if (steps.length === 0) return;
    const file = path.join(out, "curves.svg");
    await writeFile(file, await trainingCurvesSvg(steps, series, title));
    console.error(`training curves in ${file}`);
  } catch (error) {
    console.error(`warning: no training curves: ${error instanceof Error ? error.message : String(error)}`);
  }
}
