// Flags and reporting shared by the commands that work through prompts in a resumable run directory
// (`cai revise`, `cai respond`): how many at once, how many, how many may fail, what failed, and what
// a run stopped by Ctrl-C kept (also for `cai label` and `cai eval`).
import type { Command } from "commander";
import type { StageRunResult } from "../runs/run-loop.js";
import type { RunCounts } from "../runs/run-store.js";
import { intFlag } from "./run-action.js";

/** Values of the run flags. */
export interface RunFlags {
  concurrency: number;
  limit?: number;
  maxFailures: number;
  maxAttempts: number;
  restart: boolean;
}

/** Adds the run flags to a command. */
export function addRunFlags(command: Command): Command {
  return command
    .option("--concurrency <n>", "prompts worked on at once", intFlag("--concurrency", 1), 4)
    .option("--limit <n>", "only the first N prompts", intFlag("--limit", 1))
    .option(
      "--max-failures <n>",
      "exit non-zero when more prompts than this failed",
      intFlag("--max-failures", 0),
      0,
    )
    .option("--max-attempts <n>", "tries per prompt across reruns", intFlag("--max-attempts", 1), 3)
    .option("--restart", "discard the run in --out and start again", false);
}

/**
 * Prints the failed prompts' most common errors on stderr and sets a non-zero exit when more than
 * `--max-failures` failed (an interrupted run exits 130 instead, set by the caller).
 */
export function reportFailures(stage: string, result: StageRunResult, maxFailures: number): void {
  const { failed } = result.counts;
  if (failed === 0) return;
  console.error(`${stage}: ${failed} prompts failed (rerun to retry them, up to --max-attempts):`);
  for (const { error, count } of result.failures.slice(0, 5)) console.error(`  ${count} × ${error}`);
  if (failed > maxFailures && !result.interrupted) process.exitCode = 1;
}

/** Where a stopped run stood, for {@link reportStopped}. */
export interface StoppedRun {
  counts: RunCounts;
  /** What the records are: "prompts", "pairs". */
  unit: string;
  /** The phase that was stopped ("sampling responses"), when the command has several. */
  phase?: string;
  /** Anything else kept, in brackets after the count. */
  note?: string;
}

/**
 * Prints what a run stopped by Ctrl-C kept and how to resume — "revise: stopped: 212/400 prompts done;
 * rerun the same command to resume" — and sets exit code 130 (128 + SIGINT), as shells do.
 */
export function reportStopped(stage: string, { counts, unit, phase, note }: StoppedRun): void {
  console.error(
    `${stage}: stopped${phase ? ` while ${phase}` : ""}: ${counts.done}/${counts.total} ${unit} done` +
      `${note ? ` (${note})` : ""}; rerun the same command to resume`,
  );
  process.exitCode = 130;
}
