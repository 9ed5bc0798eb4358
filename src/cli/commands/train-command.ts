// `cai train`: fine-tuning. `cai train sft` trains a LoRA adapter on a GGUF base model from chat
// conversations (`cai export --format sft`), resumable from the checkpoints in its output directory.
import { type Command, InvalidArgumentError } from "commander";
import { trainSft } from "../../train/train-sft.js";
import { intFlag, runAction } from "../run-action.js";
import { stopOnSigint } from "../stop-on-sigint.js";

interface TrainSftFlags {
  base: string;
  data: string;
  out: string;
  rank: number;
  alpha: number;
  steps: number;
  lr: number;
  batchSize: number;
  seed: number;
  maxLength?: number;
}

/** Parses a positive number flag (e.g. a learning rate). */
function positiveFlag(name: string): (value: string) => number {
  return (value: string) => {
    const n = Number(value);
    if (!(Number.isFinite(n) && n > 0))
      throw new InvalidArgumentError(`${name} must be a positive number, got "${value}"`);
    return n;
  };
}

/** Registers `cai train` and its subcommands. */
export function registerTrainCommand(program: Command): void {
  const train = program.command("train").description("fine-tune a model (LoRA)");
  train
    .command("sft")
    .description("supervised fine-tuning of a LoRA adapter on chat conversations (JSONL of {messages})")
    .requiredOption("--base <gguf>", "the base model, a GGUF file")
    .requiredOption("--data <jsonl>", "conversations, each ending with the assistant message to learn")
    .requiredOption("--out <dir>", "output directory (rerun the same command to resume)")
    .option("--rank <n>", "LoRA rank", intFlag("--rank", 1), 8)
    .option("--alpha <x>", "LoRA alpha (the update is scaled by alpha / rank)", positiveFlag("--alpha"), 16)
    .option("--steps <n>", "optimizer updates", intFlag("--steps", 1), 100)
    .option("--lr <x>", "peak learning rate", positiveFlag("--lr"), 1e-4)
    .option("--batch-size <n>", "conversations per update", intFlag("--batch-size", 1), 1)
    .option("--seed <n>", "seed of the adapter's initialisation and the data order", intFlag("--seed"), 0)
    .option(
      "--max-length <n>",
      "longest sequence in tokens (default: the context length)",
      intFlag("--max-length", 2),
    )
    .action(
      runAction(async (flags: TrainSftFlags) => {
        const stop = stopOnSigint();
        try {
          const result = await trainSft({
            base: flags.base,
            data: flags.data,
            out: flags.out,
            rank: flags.rank,
            alpha: flags.alpha,
            steps: flags.steps,
            lr: flags.lr,
            batchSize: flags.batchSize,
            seed: flags.seed,
            ...(flags.maxLength === undefined ? {} : { maxLength: flags.maxLength }),
            stop: stop.signal,
            onWarning: (message) => console.error(`warning: ${message}`),
            onProgress: (p) =>
              console.error(
                `step ${p.step}/${p.totalSteps} loss ${p.loss.toFixed(4)} lr ${p.learningRate.toExponential(2)} ` +
                  `${p.tokensPerSecond.toFixed(0)} tok/s eta ${p.etaSeconds.toFixed(0)}s`,
              ),
          });
          if (result.resumedFrom > 0) console.error(`resumed from step ${result.resumedFrom}`);
          console.error(
            `${result.stopped ? "stopped" : "done"} at step ${result.step}: ${result.examples} conversations` +
              `${result.skipped > 0 ? ` (${result.skipped} skipped)` : ""}, loss ${result.firstLoss.toFixed(4)} → ${result.finalLoss.toFixed(4)}; PEFT adapter in ${result.peft.dir}`,
          );
          console.log(result.adapter);
        } finally {
          stop.dispose();
        }
      }),
    );
}
