// Reward model spec strings, as users type them in configs and flags: `reward:DIR`, DIR being a directory
// written by `cai train rm` (it holds reward.json), optionally followed by `?batch=N`.
import { ModelSpecError } from "../../models/errors/model-spec-error.js";
import type { LoadRewardModelOptions, RewardModel } from "./load-reward-model.js";

/** A parsed reward model spec. */
export interface RewardSpec {
  readonly provider: "reward";
  /** The reward model directory. */
  readonly dir: string;
  readonly options: Readonly<Record<string, string>>;
}

const prefix = "reward:";

/** Parses `reward:DIR[?batch=N]`; throws {@link ModelSpecError} naming what is wrong. */
export function parseRewardSpec(spec: string): RewardSpec {
  if (!spec.startsWith(prefix))
    throw new ModelSpecError(spec, "a reward model spec starts with reward: (reward:DIR)");
  const question = spec.indexOf("?", prefix.length);
  const dir = spec.slice(prefix.length, question < 0 ? undefined : question);
  if (!dir) throw new ModelSpecError(spec, "the directory is missing after reward:");
  const options = Object.fromEntries(new URLSearchParams(question < 0 ? "" : spec.slice(question + 1)));
  for (const key of Object.keys(options))
    if (key !== "batch") throw new ModelSpecError(spec, `unknown reward model option ${key} (known: batch)`);
  return { provider: "reward", dir, options };
}

/** Loads the reward model a spec (`reward:DIR`) names; see {@link loadRewardModel}. */
export async function createRewardModel(spec: string | RewardSpec): Promise<RewardModel> {
  const parsed = typeof spec === "string" ? parseRewardSpec(spec) : spec;
  const options: { batchSize?: number } = {};
  const batch = parsed.options.batch;
  if (batch !== undefined) {
    const n = Number(batch);
    if (!Number.isInteger(n) || n < 1)
      throw new ModelSpecError(`${prefix}${parsed.dir}`, `option batch=${batch} is not a positive integer`);
    options.batchSize = n;
  }
  // Loaded on use, so parsing a spec never loads tfjs or llama.cpp.
  const { loadRewardModel } = await import("./load-reward-model.js");
  return loadRewardModel(parsed.dir, options satisfies LoadRewardModelOptions);
}
