// `cai export RUN_DIR`: the run's revisions as datasets (TRL/HF SFT and preference, Hugging Face's
// cai-conversation columns, OpenAI fine-tuning JSONL, the full trace), one file per format and split.
import type { Command } from "commander";
import { type RevisionFormat, revisionFormats } from "../../export/revision-datasets.js";
import { type DatasetFileOutcome, writeRevisionDatasets } from "../../export/write-revision-datasets.js";
import { intFlag, runAction } from "../run-action.js";
import { UsageError } from "../usage-error.js";

/** One warning per split and reason, naming the formats skipped (not six lines for `--format all`). */
function warnSkipped(outcomes: readonly DatasetFileOutcome[]): void {
  const byReason = new Map<string, { split: string; formats: string[]; removed: number }>();
  for (const outcome of outcomes) {
    if (outcome.written) continue;
    const key = `${outcome.split}\n${outcome.reason}`;
    const entry = byReason.get(key) ?? { split: outcome.split, formats: [], removed: 0 };
    entry.formats.push(outcome.format);
    if (outcome.removedOld) entry.removed += 1;
    byReason.set(key, entry);
  }
  for (const [key, { split, formats, removed }] of byReason) {
    const reason = key.slice(key.indexOf("\n") + 1);
    const old =
      removed > 0 ? ` (removed ${removed} old ${removed === 1 ? "file" : "files"} of that name)` : "";
    console.error(
      `warning: no ${formats.map((f) => `${f}.${split}.jsonl`).join(", ")} written: ${reason}${old}`,
    );
  }
}

/** Registers `cai export`. */
export function registerExportCommand(program: Command): void {
  program
    .command("export")
    .description("write a revision run's datasets as JSONL (one file per format and split)")
    .argument("<run-dir>", "the run directory of `cai revise`")
    .requiredOption("--out <dir>", "folder for the files, named FORMAT.SPLIT.jsonl")
    .option("--format <format>", `${revisionFormats.join(", ")} or all`, "all")
    .option(
      "--round <n>",
      "use the answers after the first N critique → revision rounds (default: after all of them)",
      intFlag("--round", 0),
    )
    .action(
      runAction(async (runDir: string, flags: { out: string; format: string; round?: number }) => {
        const formats = flags.format === "all" ? [...revisionFormats] : ([flags.format] as RevisionFormat[]);
        if (!formats.every((f) => (revisionFormats as readonly string[]).includes(f))) {
          throw new UsageError(
            `--format must be one of ${revisionFormats.join(", ")} or all, got "${flags.format}"`,
          );
        }
        const outcomes = await writeRevisionDatasets({
          runDir,
          out: flags.out,
          formats,
          ...(flags.round === undefined ? {} : { round: flags.round }),
        });
        for (const outcome of outcomes)
          if (outcome.written) console.log(`${outcome.file}: ${outcome.rows} rows`);
        warnSkipped(outcomes);
      }),
    );
}
