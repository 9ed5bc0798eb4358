// `cai label`: RLAIF — every pair of responses in a responses file (`cai respond`) judged by a feedback
// model under principles drawn from the constitution, both orders, into a resumable run directory; writes
// `preferences.jsonl` (TRL prompt/chosen/rejected with the soft label `p_chosen`), optionally mixed with
// human preference pairs, for `cai train dpo|rm`.
import path from "node:path";
import { type Command, InvalidArgumentError } from "commander";
import {
  constitutionHash,
  loadConstitution,
  loadDefaultConstitution,
} from "../../constitution/load-constitution.js";
import { turnRenderers } from "../../constitution/templates.js";
import { writeJsonLines } from "../../data/jsonl-file.js";
import { InputFileError } from "../../errors/input-file-error.js";
import { createModel } from "../../models/create-model.js";
import { createProgress } from "../../runs/progress.js";
import { lockRunDir } from "../../runs/run-dir-lock.js";
import { humanPreferenceRows } from "../../stages/label/human-preferences.js";
import type { JudgmentMode } from "../../stages/label/pairwise-judgment.js";
import { labelledRows, responsePairs, runLabel } from "../../stages/label/run-label.js";
import { readResponsesFile } from "../../stages/respond/responses-file.js";
import { addModelFlags, type ModelFlags, stageModelOptions } from "../model-flags.js";
import { intFlag, runAction } from "../run-action.js";
import { reportStopped } from "../run-flags.js";
import { stopOnSigint } from "../stop-on-sigint.js";

interface LabelFlags extends ModelFlags {
  responses: string;
  judge: string;
  out: string;
  constitution?: string;
  principles: number;
  mode: JudgmentMode | "auto";
  clamp: [number, number];
  votes: number;
  fewShot?: number;
  seed: number;
  concurrency: number;
  mixHuman?: string;
  mixHumanLimit?: number;
  restart: boolean;
}

const modes = ["auto", "logprobs", "cot", "verdict", "votes"] as const;

function modeFlag(value: string): JudgmentMode | "auto" {
  if (!(modes as readonly string[]).includes(value))
    throw new InvalidArgumentError(`--mode must be one of ${modes.join(", ")}, got "${value}"`);
  return value as JudgmentMode | "auto";
}

function clampFlag(value: string): [number, number] {
  const [low, high] = value.split(",").map(Number);
  if (low === undefined || high === undefined || !(low >= 0 && low <= 0.5 && high >= 0.5 && high <= 1))
    throw new InvalidArgumentError(`--clamp must be LOW,HIGH with 0 ≤ LOW ≤ 0.5 ≤ HIGH ≤ 1, got "${value}"`);
  return [low, high];
}

/** Registers `cai label`. */
export function registerLabelCommand(program: Command): void {
  addModelFlags(
    program
      .command("label")
      .description(
        "AI feedback: judge every pair of responses under constitutional principles (RLAIF labels)",
      )
      .requiredOption("--responses <jsonl>", "a responses file (cai respond's responses.jsonl)")
      .requiredOption("--judge <spec>", "the feedback model")
      .requiredOption("--out <dir>", "run directory (rerun the same command to resume)")
      .option("--constitution <file>", "constitution YAML/JSON (default: the built-in one)")
      .option(
        "--principles <n>",
        "comparison principles drawn per pair (ensemble)",
        intFlag("--principles", 1),
        1,
      )
      .option("--mode <mode>", `how the judge answers: ${modes.join(", ")}`, modeFlag, "auto")
      .option("--clamp <low,high>", "chain of thought: the band P(A) is clamped to", clampFlag, [0.4, 0.6])
      .option("--votes <n>", "votes mode: sampled answers per order", intFlag("--votes", 1), 5)
      .option(
        "--few-shot <n>",
        "comparison examples before the question (default: all)",
        intFlag("--few-shot", 0),
      )
      .option("--seed <n>", "run seed (principles drawn per pair)", intFlag("--seed"), 0)
      .option("--concurrency <n>", "pairs judged at once", intFlag("--concurrency", 1), 4)
      .option("--mix-human <file>", "human preference pairs (hh-rlhf, TRL, OpenAI) to add to the output")
      .option("--mix-human-limit <n>", "only the first N human pairs", intFlag("--mix-human-limit", 1))
      .option("--restart", "discard the run in --out and start again", false),
  ).action(
    runAction(async (flags: LabelFlags) => {
      const constitution = flags.constitution
        ? await loadConstitution(flags.constitution)
        : await loadDefaultConstitution();
      const responses = await readResponsesFile(flags.responses);
      const pairs = responsePairs(responses);
      if (pairs.length === 0)
        throw new InputFileError(
          flags.responses,
          `0 pairs to label: each of its ${responses.length} prompts has fewer than two responses; sample two or more (cai respond --samples 2, or two --model)`,
        );
      const human = flags.mixHuman ? await humanPreferenceRows(flags.mixHuman, flags.mixHumanLimit) : [];
      // Before the judge loads, so a second process on the same --out is refused at once.
      const lock = lockRunDir(flags.out);
      const { options, cache } = stageModelOptions(flags, flags.concurrency);
      const judge = await createModel(flags.judge, options);
      const stop = stopOnSigint();
      try {
        const result = await runLabel({
          runDir: flags.out,
          pairs,
          judge,
          constitution,
          renderers: turnRenderers(constitution),
          constitutionHash: constitutionHash(constitution),
          config: {
            judge: flags.judge,
            mode: flags.mode,
            principles: flags.principles,
            fewShot: flags.fewShot ?? constitution.examples.comparison.length,
            seed: flags.seed,
            clamp: flags.clamp,
            votes: flags.votes,
          },
          concurrency: flags.concurrency,
          restart: flags.restart,
          stop: stop.signal,
          progress: createProgress({ label: "label", unit: "pairs" }),
        });
        const rows = [...labelledRows(flags.out), ...human];
        const file = path.join(flags.out, "preferences.jsonl");
        await writeJsonLines(file, rows);
        const { counts } = result;
        if (result.interrupted) reportStopped("label", { counts, unit: "pairs" });
        else console.error(`label: ${counts.done}/${counts.total} pairs done, ${counts.failed} failed`);
        for (const { error, count } of result.failures.slice(0, 5)) console.error(`  ${count} × ${error}`);
        if (counts.failed > 0 && !result.interrupted) process.exitCode = 1;
        console.log(file);
      } finally {
        stop.dispose();
        await judge.close?.();
        cache?.close();
        lock.release();
      }
    }),
  );
}
