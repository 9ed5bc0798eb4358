// `cai train`: fine-tuning a GGUF model in-process. `sft` trains a LoRA adapter on chat conversations
// (`cai export --format sft`, TRL's conversational format), `dpo` on preference pairs (`cai export
// --format preference`, TRL / hh-rlhf / OpenAI layouts, `cai label` soft labels), `rm` a preference
// (reward) model on the same pairs. Each checkpoints into its output directory; `--resume` continues an
// interrupted run exactly.
import path from "node:path";
import { type Command, InvalidArgumentError } from "commander";
import { lossCurveSeries } from "../../eval/report/training-curves.js";
import { checkpointFileName } from "../../train/loop/checkpoint.js";
import type { TrainProgress } from "../../train/loop/train-loop.js";
import type { LoraTarget } from "../../train/model/lora.js";
import { trainRewardModel } from "../../train/reward/train-rm.js";
import { trainDpo } from "../../train/train-dpo.js";
import { trainSft } from "../../train/train-sft.js";
import { intFlag, runAction } from "../run-action.js";
import {
  baseModelIdFlag,
  baseModelIdHelp,
  positiveFlag,
  targetsFlag,
  withStop,
  writeTrainingCurves,
} from "../train-flags.js";
import { registerTrainRlCommand } from "./train-rl-command.js";

/** Flags every `cai train` objective takes. */
interface CommonFlags {
  base: string;
  data: string;
  out: string;
  evalData?: string;
  evalEvery?: number;
  rank: number;
  targets?: LoraTarget[];
  dropout: number;
  alpha: number;
  steps: number;
  lr?: number;
  batchSize: number;
  gradAccumulation: number;
  seed: number;
  maxLength?: number;
  resume?: boolean;
  checkpointEvery: number;
  /** sft and dpo only (rm writes no PEFT adapter). */
  baseModelId?: string;
}

/** Adds the flags of {@link CommonFlags} to `command`, with `lr` as the default learning rate. */
function commonOptions(command: Command, what: string, lr: string): Command {
  return command
    .requiredOption("--base <gguf>", "the base model, a GGUF file")
    .requiredOption("--data <jsonl>", what)
    .requiredOption("--out <dir>", "output directory: checkpoints, adapters (GGUF and PEFT)")
    .option("--eval-data <jsonl>", "held-out data in the same format, evaluated during and after training")
    .option(
      "--eval-every <n>",
      "evaluate every n updates (default: a tenth of the steps)",
      intFlag("--eval-every", 1),
    )
    .option("--rank <n>", "LoRA rank", intFlag("--rank", 1), 8)
    .option(
      "--targets <list>",
      "LoRA target projections, e.g. q_proj,v_proj (default: all seven)",
      targetsFlag,
    )
    .option("--dropout <p>", "LoRA dropout while training, in [0, 1)", dropoutFlag, 0)
    .option("--alpha <x>", "LoRA alpha (the update is scaled by alpha / rank)", positiveFlag("--alpha"), 16)
    .option("--steps <n>", "optimizer updates", intFlag("--steps", 1), 100)
    .option("--lr <x>", `peak learning rate (warmup, then cosine decay; default ${lr})`, positiveFlag("--lr"))
    .option("--batch-size <n>", "examples per forward/backward pass", intFlag("--batch-size", 1), 1)
    .option(
      "--grad-accumulation <n>",
      "passes whose gradients make one update (examples per update: batch size × n)",
      intFlag("--grad-accumulation", 1),
      1,
    )
    .option("--seed <n>", "seed of the adapter's initialisation and the data order", intFlag("--seed"), 0)
    .option(
      "--max-length <n>",
      "longest sequence in tokens (default: the context length)",
      intFlag("--max-length", 2),
    )
    .option("--checkpoint-every <n>", "checkpoint every n updates", intFlag("--checkpoint-every", 1), 50)
    .option("--resume", "continue the run checkpointed in --out (same settings)");
}

/** The library options shared by every objective, from the flags. */
function commonSettings(flags: CommonFlags) {
  let firstUpdate = true;
  return {
    base: flags.base,
    data: flags.data,
    out: flags.out,
    rank: flags.rank,
    dropout: flags.dropout,
    alpha: flags.alpha,
    steps: flags.steps,
    ...(flags.lr === undefined ? {} : { lr: flags.lr }),
    batchSize: flags.batchSize,
    gradAccumulation: flags.gradAccumulation,
    seed: flags.seed,
    resume: flags.resume ?? false,
    checkpointEvery: flags.checkpointEvery,
    ...(flags.targets === undefined ? {} : { targets: flags.targets }),
    ...(flags.evalData === undefined ? {} : { evalData: flags.evalData }),
    ...(flags.evalEvery === undefined ? {} : { evalEvery: flags.evalEvery }),
    ...(flags.maxLength === undefined ? {} : { maxLength: flags.maxLength }),
    ...(flags.baseModelId === undefined ? {} : { baseModelId: flags.baseModelId }),
    onWarning: (message: string) => console.error(`warning: ${message}`),
    onProgress: (p: TrainProgress) => {
      // The first update of a resumed run follows the checkpoint's: say what was done before.
      if (firstUpdate && p.step > 1)
        console.error(
          `train: resuming ${flags.out}: ${p.step - 1}/${p.totalSteps} steps done before, ${p.totalSteps - p.step + 1} to do`,
        );
      firstUpdate = false;
      console.error(
        `step ${p.step}/${p.totalSteps} loss ${p.loss.toFixed(4)}` +
          `${p.evalLoss === undefined ? "" : ` eval ${p.evalLoss.toFixed(4)}`} lr ${p.learningRate.toExponential(2)} ` +
          `${p.tokensPerSecond.toFixed(0)} tok/s eta ${p.etaSeconds.toFixed(0)}s`,
      );
    },
  };
}

/**
 * The closing lines every objective prints: resume note, where a Ctrl-C left the run (exit code 130),
 * the summary, then the adapter path on stdout.
 */
async function report(
  result: { resumedFrom: number; stopped: boolean; step: number; output: string; peft?: { dir: string } },
  summary: string,
  flags: CommonFlags,
  objective: "sft" | "dpo" | "rm",
): Promise<void> {
  if (result.resumedFrom > 0) console.error(`resumed from step ${result.resumedFrom}`);
  if (result.stopped) {
    const checkpoint = path.join(flags.out, "checkpoints", checkpointFileName(result.step));
    console.error(
      `train: stopped at step ${result.step}/${flags.steps}; checkpoint at ${checkpoint}; rerun the same command with --resume to continue`,
    );
    process.exitCode = 130;
  }
  const peak = process.resourceUsage().maxRSS / 1024;
  console.error(
    `${result.stopped ? "stopped" : "done"} at step ${result.step}: ${summary}` +
      `${result.peft ? `; PEFT adapter in ${result.peft.dir}` : ""}; peak RSS ${peak.toFixed(0)} MB`,
  );
  await writeTrainingCurves(
    flags.out,
    lossCurveSeries,
    `cai train ${objective}: ${path.basename(flags.out)}`,
  );
  console.log(result.output);
}

function dropoutFlag(value: string): number {
  const p = value.trim() === "" ? Number.NaN : Number(value);
  if (!(p >= 0 && p < 1)) throw new InvalidArgumentError(`--dropout must be in [0, 1), got "${value}"`);
  return p;
}

function fullTypeFlag(value: string): "F32" | "F16" {
  const type = value.toUpperCase();
  if (type !== "F32" && type !== "F16")
    throw new InvalidArgumentError(`--full-type must be f32 or f16, got "${value}"`);
  return type;
}

/** Registers `cai train` and its subcommands. */
export function registerTrainCommand(program: Command): void {
  const train = program
    .command("train")
    .description("fine-tune a GGUF model in-process: SFT, DPO, preference model, RL");

  commonOptions(
    train
      .command("sft")
      .description("supervised fine-tuning of a LoRA adapter on chat conversations (JSONL of {messages})"),
    "conversations, each ending with the assistant message to learn",
    "1e-4, or 1e-5 with --full",
  )
    .option("--base-model-id <id>", baseModelIdHelp, baseModelIdFlag)
    .option("--full", "train every weight (no adapter) and write a whole GGUF model")
    .option("--merge", "also write the base with the trained adapter folded in, as a GGUF model")
    .option(
      "--full-type <type>",
      "tensor type of the model --full or --merge writes: f32 or f16",
      fullTypeFlag,
      "F32",
    )
    .action(
      runAction(async (flags: CommonFlags & { full?: boolean; merge?: boolean; fullType: "F32" | "F16" }) => {
        const result = await withStop(flags.out, (stop) =>
          trainSft({
            ...commonSettings(flags),
            full: flags.full ?? false,
            merge: flags.merge ?? false,
            fullType: flags.fullType,
            stop,
          }),
        );
        const held = result.evalLoss
          ? `; held-out loss ${result.evalLoss.start.toFixed(4)} → ${result.evalLoss.end.toFixed(4)}`
          : "";
        await report(
          result,
          `${result.examples} conversations${result.skipped > 0 ? ` (${result.skipped} skipped)` : ""}, ` +
            `loss ${result.firstLoss.toFixed(4)} → ${result.finalLoss.toFixed(4)}${held}` +
            (flags.merge && result.model ? `; merged model ${result.model}` : ""),
          flags,
          "sft",
        );
      }),
    );

  commonOptions(
    train
      .command("dpo")
      .description(
        "direct preference optimisation of a LoRA adapter on preference pairs (prompt, chosen, rejected; optional p_chosen)",
      ),
    "preference pairs: TRL (prompt/chosen/rejected), hh-rlhf, OpenAI preference or cai export/label JSONL",
    "5e-5",
  )
    .option("--base-model-id <id>", baseModelIdHelp, baseModelIdFlag)
    .option("--beta <x>", "DPO's β: the pull toward the base model", positiveFlag("--beta"), 0.1)
    .action(
      runAction(async (flags: CommonFlags & { beta: number }) => {
        const result = await withStop(flags.out, (stop) =>
          trainDpo({ ...commonSettings(flags), beta: flags.beta, stop }),
        );
        const held = result.eval
          ? `; held-out margin ${result.eval.start.margin.toFixed(3)} → ${result.eval.end.margin.toFixed(3)}, ` +
            `accuracy ${result.eval.start.accuracy.toFixed(3)} → ${result.eval.end.accuracy.toFixed(3)}`
          : "";
        await report(
          result,
          `${result.pairs} pairs${result.skipped > 0 ? ` (${result.skipped} skipped)` : ""}, ` +
            `loss ${result.firstLoss.toFixed(4)} → ${result.finalLoss.toFixed(4)}${held}`,
          flags,
          "dpo",
        );
      }),
    );

  commonOptions(
    train
      .command("rm")
      .description(
        "train a preference (reward) model: LoRA + a scalar head on the last token, Bradley–Terry on soft labels",
      ),
    "preference pairs: TRL (prompt/chosen/rejected), hh-rlhf, OpenAI preference or cai export/label JSONL",
    "1e-4",
  ).action(
    runAction(async (flags: CommonFlags) => {
      const result = await withStop(flags.out, (stop) =>
        trainRewardModel({ ...commonSettings(flags), stop }),
      );
      const e = result.eval;
      const held = e
        ? `; held-out accuracy ${e.start.accuracy.toFixed(3)} → ${e.end.accuracy.toFixed(3)}, ` +
          `loss ${e.start.loss.toFixed(4)} → ${e.end.loss.toFixed(4)}, ECE ${e.end.expectedCalibrationError.toFixed(3)}, ` +
          `Brier ${e.end.brierScore.toFixed(3)}`
        : "";
      await report(
        result,
        `${result.pairs} pairs${result.skipped > 0 ? ` (${result.skipped} skipped)` : ""}, ` +
          `loss ${result.firstLoss.toFixed(4)} → ${result.finalLoss.toFixed(4)}${held}; load it as reward:${result.output}`,
        flags,
        "rm",
      );
    }),
  );

  registerTrainRlCommand(train);
}
