// `cai respond`: RL-CAI step one — K sampled responses per prompt from one or more models, into a
// resumable run directory, exported as `<out>/responses.jsonl` (the input of `cai label` and `cai eval`).
import path from "node:path";
import type { Command } from "commander";
import { selectPrompts } from "../../data/prompt-selection.js";
import { promptMessages } from "../../data/prompt-set.js";
import { CaiError } from "../../errors/cai-error.js";
import { createModel } from "../../models/create-model.js";
import type { LanguageModel } from "../../models/model.js";
import { createProgress } from "../../runs/progress.js";
import { lockRunDir } from "../../runs/run-dir-lock.js";
import { writeResponsesFile } from "../../stages/respond/responses-file.js";
import { type RespondPrompt, respondRecords, runRespond } from "../../stages/respond/run-respond.js";
import { addModelFlags, type ModelFlags, samplingFlags, stageModelOptions } from "../model-flags.js";
import {
  type PromptFileFlags,
  promptCategoryOption,
  promptFileOptions,
  promptKindOption,
  splitOption,
} from "../prompt-flags.js";
import { collectFlag, intFlag, runAction } from "../run-action.js";
import { addRunFlags, type RunFlags, reportFailures, reportStopped } from "../run-flags.js";
import { stopOnSigint } from "../stop-on-sigint.js";

interface RespondFlags extends ModelFlags, RunFlags, PromptFileFlags {
  model: string[];
  prompts: string[];
  out: string;
  samples: number;
  seed: number;
  temperature: string;
  maxTokens: number;
  split: string;
}

/** The responses file inside a respond run directory. */
export const responsesFileName = "responses.jsonl";

/** Registers `cai respond`. */
export function registerRespondCommand(program: Command): void {
  addModelFlags(
    addRunFlags(
      program
        .command("respond")
        .description(
          "sample K responses per prompt from one or more models (RL-CAI data for cai label / eval)",
        )
        .requiredOption(
          "--model <spec>",
          "a model to sample from, adapters included (repeat for several)",
          collectFlag,
        )
        .requiredOption("--out <dir>", "run directory (rerun the same command to resume)")
        .option(
          "--prompts <set>",
          "red-team, helpful, or a prompt-set JSONL file (repeat for several)",
          collectFlag,
          [],
        )
        .addOption(splitOption("train"))
        .addOption(promptKindOption())
        .addOption(promptCategoryOption())
        .option("--samples <k>", "responses per model per prompt", intFlag("--samples", 1), 2)
        .option("--seed <n>", "run seed (each sample's seed derives from it)", intFlag("--seed"), 0)
        .option("--temperature <t>", "sampling temperature", "1")
        .option("--max-tokens <n>", "longest response", intFlag("--max-tokens", 1), 256),
    ),
  ).action(
    runAction(async (flags: RespondFlags) => {
      const { temperature } = samplingFlags(flags);
      const repeated = flags.model.find((spec, i) => flags.model.indexOf(spec) !== i);
      if (repeated) throw new CaiError(`--model ${repeated} is given twice`);
      const prompts = await loadRespondPrompts(
        flags.prompts.length > 0 ? flags.prompts : ["red-team"],
        flags.split,
        flags.limit,
        flags,
      );

      // Before the models load, so a second process on the same --out is refused at once.
      const lock = lockRunDir(flags.out);
      const { options, cache } = stageModelOptions(flags, flags.concurrency);
      const models: LanguageModel[] = [];
      const stop = stopOnSigint();
      try {
        for (const spec of flags.model) models.push(await createModel(spec, options));
        const result = await runRespond({
          runDir: flags.out,
          prompts,
          models,
          config: {
            models: flags.model,
            samples: flags.samples,
            seed: flags.seed,
            temperature,
            maxTokens: flags.maxTokens,
          },
          concurrency: flags.concurrency,
          maxAttempts: flags.maxAttempts,
          restart: flags.restart,
          stop: stop.signal,
          progress: createProgress({ label: "respond", unit: "prompts" }),
        });
        const file = path.join(flags.out, responsesFileName);
        const rows = respondRecords(flags.out);
        await writeResponsesFile(file, rows);
        const { counts } = result;
        if (result.interrupted)
          reportStopped("respond", { counts, unit: "prompts", note: `${rows.length} rows in ${file}` });
        else {
          console.log(`respond: ${counts.done}/${counts.total} done, ${counts.failed} failed; wrote ${file}`);
        }
        reportFailures("respond", result, flags.maxFailures);
      } finally {
        stop.dispose();
        for (const model of models) await model.close?.();
        cache?.close();
        lock.release();
      }
    }),
  );
}

/** The prompts of every set named, filtered to the split, first `limit` of them, as respond prompts. */
async function loadRespondPrompts(
  sets: string[],
  split: string,
  limit: number | undefined,
  flags: PromptFileFlags,
): Promise<RespondPrompt[]> {
  return (await selectPrompts(sets, split, limit, promptFileOptions(flags))).map((record) => ({
    id: record.id,
    kind: record.kind,
    category: record.category,
    split: record.split,
    prompt: promptMessages(record),
  }));
}
