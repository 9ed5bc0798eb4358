// `cai train rl`: RL-CAI — a LoRA policy optimised on a mix of red-team and helpfulness prompts against a
// preference model (`--reward reward:DIR`, from `cai train rm`) or an AI judge asked directly (`--judge
// SPEC`, d-RLAIF), by RLOO or GRPO with a clipped ratio and a KL penalty to the start model.
import path from "node:path";
import { type Command, InvalidArgumentError } from "commander";
import {
  constitutionHash,
  loadConstitution,
  loadDefaultConstitution,
} from "../../constitution/load-constitution.js";
import { selectPrompts } from "../../data/prompt-selection.js";
import { promptMessages } from "../../data/prompt-set.js";
import { rlCurveSeries } from "../../eval/report/training-curves.js";
import { createModel } from "../../models/create-model.js";
import type { LanguageModel } from "../../models/model.js";
import { checkpointFileName } from "../../train/loop/checkpoint.js";
import type { LoraTarget } from "../../train/model/lora.js";
import type { RewardModel } from "../../train/reward/load-reward-model.js";
import { createRewardModel } from "../../train/reward/reward-spec.js";
import { judgeRewardSource, type RewardSource, rewardModelSource } from "../../train/rl/reward-source.js";
import type { RlPrompt } from "../../train/rl/rollouts.js";
import { type RlProgress, trainRl } from "../../train/rl/train-rl.js";
import { addModelFlags, type ModelFlags, stageModelOptions } from "../model-flags.js";
import {
  type PromptFileFlags,
  promptCategoryOption,
  promptFileOptions,
  promptKindOption,
} from "../prompt-flags.js";
import { collectFlag, intFlag, runAction } from "../run-action.js";
import {
  baseModelIdFlag,
  baseModelIdHelp,
  positiveFlag,
  targetsFlag,
  withStop,
  writeTrainingCurves,
} from "../train-flags.js";
import { UsageError } from "../usage-error.js";

interface RlFlags extends ModelFlags, PromptFileFlags {
  base: string;
  adapter: string[];
  prompts: string[];
  evalCount: number;
  reward?: string;
  judge?: string;
  constitution?: string;
  principles: number;
  fewShot: number;
  out: string;
  algo: "rloo" | "grpo";
  samples: number;
  promptsPerStep: number;
  epochs: number;
  minibatches: number;
  microBatch: number;
  clip: number;
  klCoef: number;
  klTarget?: number;
  maxKl?: number;
  steps: number;
  lr: number;
  rank: number;
  alpha: number;
  targets?: LoraTarget[];
  maxNewTokens: number;
  temperature: number;
  seed: number;
  evalEvery?: number;
  checkpointEvery: number;
  exactKv?: boolean;
  reference: "trainer" | "llama";
  resume?: boolean;
  baseModelId?: string;
}

function algoFlag(value: string): "rloo" | "grpo" {
  if (value !== "rloo" && value !== "grpo")
    throw new InvalidArgumentError(`--algo must be rloo or grpo, got "${value}"`);
  return value;
}

function nonNegativeFlag(name: string): (value: string) => number {
  return (value: string) => {
    const n = value.trim() === "" ? Number.NaN : Number(value);
    if (!(Number.isFinite(n) && n >= 0))
      throw new InvalidArgumentError(`${name} must be a number ≥ 0, got "${value}"`);
    return n;
  };
}

function referenceFlag(value: string): "trainer" | "llama" {
  if (value !== "trainer" && value !== "llama")
    throw new InvalidArgumentError(`--reference must be trainer or llama, got "${value}"`);
  return value;
}

function clipFlag(value: string): number {
  const n = value.trim() === "" ? Number.NaN : Number(value);
  if (!(n > 0 && n < 1)) throw new InvalidArgumentError(`--clip must be in (0, 1), got "${value}"`);
  return n;
}

/** The prompts of the sets named: the train split to learn on, the first `evalCount` of the test split held out. */
async function rlPrompts(sets: readonly string[], flags: PromptFileFlags, evalCount: number) {
  const records = await selectPrompts(sets, "all", undefined, promptFileOptions(flags));
  const of = (split: string) =>
    records
      .filter((record) => record.split === split)
      .map((record): RlPrompt => ({ id: record.id, messages: promptMessages(record) }));
  return { prompts: of("train"), evalPrompts: of("test").slice(0, evalCount) };
}

function describeProgress(p: RlProgress): string {
  const m = p.metrics;
  const f = (x: number | undefined, digits = 3) => (x === undefined ? "–" : x.toFixed(digits));
  const t = p.timings;
  return (
    `step ${p.step}/${p.totalSteps} score ${f(m.score)} reward ${f(m.reward)} KL ${f(m.kl)} (β ${f(m.klCoef, 4)}) ` +
    `entropy ${f(m.entropy, 2)} length ${f(m.length, 1)} clip ${f(m.clipFraction, 3)}` +
    `${m.heldReward === undefined ? "" : ` held-out ${f(m.heldReward)}`} · ` +
    `generate ${t.generate.toFixed(1)}s score ${t.score.toFixed(1)}s reference ${t.reference.toFixed(1)}s ` +
    `backprop ${t.backprop.toFixed(1)}s export ${t.export.toFixed(1)}s · eta ${p.etaSeconds.toFixed(0)}s`
  );
}

/** Registers `cai train rl` under `train`. */
export function registerTrainRlCommand(train: Command): void {
  addModelFlags(
    train
      .command("rl")
      .description(
        "RL-CAI: optimise a LoRA policy against a preference model (--reward) or an AI judge (--judge), by RLOO or GRPO",
      )
      .requiredOption("--base <gguf>", "the starting policy (usually SL-CAI), also the KL reference")
      .option(
        "--adapter <gguf>",
        "a LoRA adapter on --base, folded into the start (repeat for several)",
        collectFlag,
        [],
      )
      .requiredOption("--out <dir>", "output directory: checkpoints, logs, the adapter (GGUF and PEFT)")
      .option("--reward <spec>", "the preference model, reward:DIR (from cai train rm)")
      .option("--judge <spec>", "an AI judge asked directly (d-RLAIF), any model with log-probs")
      .option("--constitution <file>", "the judge's constitution (default: the built-in one)")
      .option(
        "--principles <n>",
        "comparison principles drawn per judged pair",
        intFlag("--principles", 1),
        1,
      )
      .option(
        "--few-shot <n>",
        "comparison examples before the judge's question",
        intFlag("--few-shot", 0),
        0,
      )
      .option(
        "--prompts <set>",
        "red-team, helpful, or a prompt file (repeat; default red-team and helpful); the train split",
        collectFlag,
        [],
      )
      .addOption(promptKindOption())
      .addOption(promptCategoryOption())
      .option(
        "--eval-count <n>",
        "held-out prompts (the test split) for the held-out reward; 0 for none",
        intFlag("--eval-count", 0),
        16,
      )
      .option("--algo <name>", "rloo (leave-one-out baseline) or grpo (group-normalised)", algoFlag, "rloo")
      .option("--samples <k>", "answers sampled per prompt (k ≥ 2)", intFlag("--samples", 2), 4)
      .option("--prompts-per-step <n>", "prompts per RL step", intFlag("--prompts-per-step", 1), 4)
      .option(
        "--micro-batch <n>",
        "sequences per forward/backward pass of the trainer (memory vs speed)",
        intFlag("--micro-batch", 1),
        4,
      )
      .option("--epochs <n>", "μ: passes over each batch of rollouts", intFlag("--epochs", 1), 2)
      .option("--minibatches <n>", "updates per pass", intFlag("--minibatches", 1), 1)
      .option("--clip <eps>", "ε of the clipped importance ratio", clipFlag, 0.2)
      .option(
        "--kl-coef <beta>",
        "per-token KL penalty to the start model, in the reward",
        nonNegativeFlag("--kl-coef"),
        0.05,
      )
      .option(
        "--kl-target <nats>",
        "adapt β toward this KL per answer (adaptive controller)",
        positiveFlag("--kl-target"),
      )
      .option(
        "--max-kl <nats>",
        "stop early once the mean KL per answer passes this budget",
        positiveFlag("--max-kl"),
      )
      .option("--steps <n>", "RL steps (rollout batches)", intFlag("--steps", 1), 50)
      .option("--lr <x>", "AdamW learning rate (constant)", positiveFlag("--lr"), 1e-5)
      .option("--rank <n>", "LoRA rank", intFlag("--rank", 1), 8)
      .option("--alpha <x>", "LoRA alpha (the update is scaled by alpha / rank)", positiveFlag("--alpha"), 16)
      .option(
        "--targets <list>",
        "LoRA target projections, e.g. q_proj,v_proj (default: all seven)",
        targetsFlag,
      )
      .option("--max-new-tokens <n>", "longest answer in tokens", intFlag("--max-new-tokens", 1), 64)
      .option("--temperature <t>", "rollout temperature (1: on-policy)", positiveFlag("--temperature"), 1)
      .option("--seed <n>", "seed of the adapter, the prompt order and the samples", intFlag("--seed"), 0)
      .option(
        "--eval-every <n>",
        "held-out evaluation every n steps (default: a tenth)",
        intFlag("--eval-every", 1),
      )
      .option("--checkpoint-every <n>", "checkpoint every n steps", intFlag("--checkpoint-every", 1), 10)
      .option(
        "--reference <who>",
        "who computes the start model's log-probs for the KL: trainer or llama (see npm run bench:rl)",
        referenceFlag,
        "trainer",
      )
      .option(
        "--exact-kv",
        "F32 KV cache in the rollouts (llama.cpp's log-probs match the trainer's to ~1e-6)",
      )
      .option("--base-model-id <id>", baseModelIdHelp, baseModelIdFlag)
      .option("--resume", "continue the run checkpointed in --out (same settings)"),
  ).action(
    runAction(async (flags: RlFlags) => {
      if ((flags.reward === undefined) === (flags.judge === undefined))
        throw new UsageError("give exactly one of --reward reward:DIR and --judge SPEC");
      const sets = flags.prompts.length > 0 ? flags.prompts : ["red-team", "helpful"];
      const { prompts, evalPrompts } = await rlPrompts(sets, flags, flags.evalCount);
      const result = await withStop(flags.out, async (stop) => {
        const { options, cache } = stageModelOptions(flags, 4);
        let judge: LanguageModel | undefined;
        let rewardModel: RewardModel | undefined;
        try {
          let reward: RewardSource;
          if (flags.judge !== undefined) {
            const constitution = flags.constitution
              ? await loadConstitution(flags.constitution)
              : await loadDefaultConstitution();
            judge = await createModel(flags.judge, options);
            reward = judgeRewardSource({
              judge,
              constitution,
              constitutionHash: constitutionHash(constitution),
              principles: flags.principles,
              fewShot: flags.fewShot,
            });
          } else {
            rewardModel = await createRewardModel(flags.reward as string);
            reward = rewardModelSource(rewardModel);
          }
          let first = true;
          return await trainRl({
            base: flags.base,
            adapters: flags.adapter,
            prompts,
            ...(evalPrompts.length > 0 ? { evalPrompts } : {}),
            reward,
            out: flags.out,
            algo: flags.algo,
            samples: flags.samples,
            promptsPerStep: flags.promptsPerStep,
            epochs: flags.epochs,
            minibatches: flags.minibatches,
            microBatch: flags.microBatch,
            clip: flags.clip,
            klCoef: flags.klCoef,
            ...(flags.klTarget === undefined ? {} : { klTarget: flags.klTarget }),
            ...(flags.maxKl === undefined ? {} : { maxKl: flags.maxKl }),
            steps: flags.steps,
            lr: flags.lr,
            rank: flags.rank,
            alpha: flags.alpha,
            ...(flags.targets === undefined ? {} : { targets: flags.targets }),
            maxNewTokens: flags.maxNewTokens,
            temperature: flags.temperature,
            seed: flags.seed,
            ...(flags.evalEvery === undefined ? {} : { evalEvery: flags.evalEvery }),
            checkpointEvery: flags.checkpointEvery,
            ...(flags.threads === undefined ? {} : { threads: flags.threads }),
            ...(flags.parallel === undefined ? {} : { parallel: flags.parallel }),
            exactKvCache: flags.exactKv ?? false,
            reference: flags.reference,
            resume: flags.resume ?? false,
            ...(flags.baseModelId === undefined ? {} : { baseModelId: flags.baseModelId }),
            stop,
            onWarning: (message) => console.error(`warning: ${message}`),
            onProgress: (p) => {
              if (first && p.step > 1)
                console.error(
                  `train rl: resuming ${flags.out}: ${p.step - 1}/${p.totalSteps} steps done before, ${p.totalSteps - p.step + 1} to do`,
                );
              first = false;
              console.error(describeProgress(p));
            },
          });
        } finally {
          await judge?.close?.();
          await rewardModel?.close();
          cache?.close();
        }
      });
      if (result.resumedFrom > 0) console.error(`resumed from step ${result.resumedFrom}`);
      if (result.stopped) {
        const checkpoint = path.join(flags.out, "checkpoints", checkpointFileName(result.step));
        console.error(
          `train rl: stopped at step ${result.step}/${flags.steps}; checkpoint at ${checkpoint}; rerun the same command with --resume to continue`,
        );
        process.exitCode = 130;
      }
      const last = result.history.at(-1)?.metrics ?? {};
      const held = result.evaluations;
      const heldText =
        held.length > 0
          ? `; held-out reward ${held[0]?.heldReward.toFixed(3)} → ${held.at(-1)?.heldReward.toFixed(3)}`
          : "";
      console.error(
        `${result.stopped ? "stopped" : result.stoppedByKl ? "stopped by the KL budget" : "done"} at step ${result.step}: ` +
          `score ${last.score?.toFixed(3) ?? "–"}, KL ${last.kl?.toFixed(3) ?? "–"}${heldText}; ` +
          `the adapter applies to ${result.startModel}; PEFT adapter in ${result.peft.dir}`,
      );
      await writeTrainingCurves(
        flags.out,
        rlCurveSeries,
        `cai train rl: ${path.basename(flags.out)}`,
        result.history,
      );
      console.log(result.output);
    }),
  );
}
