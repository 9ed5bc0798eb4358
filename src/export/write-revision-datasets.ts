// `cai export` as a library call: a revision run's datasets written as `FORMAT.SPLIT.jsonl`, one file per
// format and split. A split with nothing to export gets no file (an empty file would fail later, far from
// the cause, e.g. `train sft --eval-data`): it is reported as skipped, with the reason and the fix.
import { mkdir, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { readRevisionRun } from "./read-run.js";
import { isPreferenceFormat, type RevisionFormat, revisionJsonl, traceAtRound } from "./revision-datasets.js";
import { RoundOutOfRangeError } from "./round-out-of-range-error.js";

/** Options of {@link writeRevisionDatasets}. */
export interface WriteRevisionDatasetsOptions {
  /** The run directory of `cai revise`. */
  runDir: string;
  /** Folder for the files. */
  out: string;
  formats: readonly RevisionFormat[];
  /** The answers after the first `round` rounds (default: after all of them); 0 to the run's rounds. */
  round?: number;
}

/** A file written, or a split skipped and why. */
export type DatasetFileOutcome =
  | { written: true; file: string; format: RevisionFormat; split: "train" | "test"; rows: number }
  | {
      written: false;
      file: string;
      format: RevisionFormat;
      split: "train" | "test";
      /** Why there is nothing to write and what would give rows, e.g. `revise with --split all …`. */
      reason: string;
      /** Whether a file of that name from an earlier export was removed, so none stays behind. */
      removedOld: boolean;
    };

const splits = ["train", "test"] as const;

/** Why a split of `format` has no rows. */
function emptyReason(format: RevisionFormat, split: "train" | "test", prompts: number): string {
  if (prompts === 0)
    return `no ${split}-split prompts in this run; revise with --split all or ${split} to get them`;
  // Only the preference formats leave records out: a pair whose two sides are equal teaches nothing.
  return isPreferenceFormat(format)
    ? `every one of the ${prompts} ${split}-split revisions equals its draft, so there is no pair to prefer`
    : `none of the ${prompts} ${split}-split prompts has a row in this format`;
}

/**
 * Writes the datasets of the run in `runDir` into `out`. Throws RoundOutOfRangeError for a `round` past
 * the run's rounds. An empty split is not written (an old file of its name is removed) and is returned
 * with the reason.
 */
export async function writeRevisionDatasets(
  options: WriteRevisionDatasetsOptions,
): Promise<DatasetFileOutcome[]> {
  const { config, records: all } = readRevisionRun(options.runDir);
  const { round } = options;
  if (round !== undefined && round > config.rounds)
    throw new RoundOutOfRangeError(options.runDir, round, config.rounds);
  const records = all.map((r) => (round === undefined ? r : { ...r, trace: traceAtRound(r.trace, round) }));
  await mkdir(options.out, { recursive: true });
  const outcomes: DatasetFileOutcome[] = [];
  for (const format of options.formats)
    for (const split of splits) {
      const chosen = records.filter((r) => r.split === split);
      const { text, rows } = revisionJsonl(chosen, format);
      const file = path.join(options.out, `${format}.${split}.jsonl`);
      if (rows > 0) {
        await writeFile(file, text);
        outcomes.push({ written: true, file, format, split, rows });
        continue;
      }
      const removedOld = await rm(file).then(
        () => true,
        () => false,
      );
      outcomes.push({
        written: false,
        file,
        format,
        split,
        reason: emptyReason(format, split, chosen.length),
        removedOld,
      });
    }
  return outcomes;
}
