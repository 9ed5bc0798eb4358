// `cai export RUN_DIR`: the run's revisions as datasets (TRL/HF SFT and preference, Hugging Face's
// cai-conversation columns, OpenAI fine-tuning JSONL, the full trace), one file per format and split.
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import type { Command } from "commander";
import { CaiError } from "../../errors/cai-error.js";
import { readRevisedRecords } from "../../export/read-run.js";
import {
  type RevisedRecord,
  type RevisionFormat,
  revisionFormats,
  revisionJsonl,
  traceAtRound,
} from "../../export/revision-datasets.js";
import { intFlag, runAction } from "../run-action.js";

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
          throw new CaiError(
            `--format must be one of ${revisionFormats.join(", ")} or all, got "${flags.format}"`,
          );
        }
        const { round } = flags;
        const records = readRevisedRecords(runDir).map((r) =>
          round === undefined ? r : { ...r, trace: traceAtRound(r.trace, round) },
        );
        await mkdir(flags.out, { recursive: true });
        for (const format of formats) {
          for (const split of ["train", "test"] as const) {
            const chosen = records.filter((r: RevisedRecord) => r.split === split);
            const { text, rows } = revisionJsonl(chosen, format);
            const file = path.join(flags.out, `${format}.${split}.jsonl`);
            await writeFile(file, text);
            console.log(`${file}: ${rows} rows`);
          }
        }
      }),
    );
}
