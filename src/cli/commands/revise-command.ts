// `cai revise`: SL-CAI data — drafts, critiques and revisions of a prompt set under a constitution,
// into a resumable run directory.
import type { Command } from "commander";
import type { Constitution } from "../../constitution/constitution-schema.js";
import {
  constitutionHash,
  loadConstitution,
  loadDefaultConstitution,
} from "../../constitution/load-constitution.js";
import { samplePrinciple } from "../../constitution/sampling.js";
import { turnRenderers } from "../../constitution/templates.js";
import { selectPrompts } from "../../data/prompt-selection.js";
import { createModel } from "../../models/create-model.js";
import { createProgress } from "../../runs/progress.js";
import { lockRunDir } from "../../runs/run-dir-lock.js";
import { type RevisePrompt, runRevise } from "../../stages/revise/run-revise.js";
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

interface ReviseFlags extends ModelFlags, RunFlags, PromptFileFlags {
  model: string;
  critic?: string;
  out: string;
  constitution?: string;
  prompts: string[];
  split: string;
  rounds: number;
  seed: number;
  maxTokens: number;
  temperature: string;
  earlyStop: boolean;
  keepWhenFine: boolean;
  critique: boolean;
  fewShot?: number;
}

/** Registers `cai revise`. */
export function registerReviseCommand(program: Command): void {
  addModelFlags(
    addRunFlags(
      program
        .command("revise")
        .description(
          "draft answers to prompts, then critique and revise them against a constitution (SL-CAI data)",
        )
        .requiredOption("--model <spec>", "the policy model that drafts answers")
        .requiredOption("--out <dir>", "run directory (rerun the same command to resume)")
        .option(
          "--critic <spec>",
          "a separate model that critiques and revises (an overseer); default: the policy",
        )
        .option("--constitution <file>", "constitution YAML/JSON (default: the built-in one)")
        .option(
          "--prompts <set>",
          "red-team, helpful, or a prompt-set JSONL file (repeat for several)",
          collectFlag,
          [],
        )
        .addOption(splitOption("train"))
        .addOption(promptKindOption())
        .addOption(promptCategoryOption())
        .option(
          "--rounds <n>",
          "critique → revision rounds per prompt (0: drafts only — the paper's helpfulness samples)",
          intFlag("--rounds", 0),
          4,
        )
        .option("--seed <n>", "run seed (principles drawn and sampling)", intFlag("--seed"), 0)
        .option("--max-tokens <n>", "longest draft, critique or revision", intFlag("--max-tokens", 1), 256)
        .option("--temperature <t>", "sampling temperature", "1")
        .option("--early-stop", "end the rounds when a critique finds nothing to change", false)
        .option(
          "--keep-when-fine",
          "skip the revision when the critique finds nothing to change, then go on with the next round",
          false,
        )
        .option(
          "--no-critique",
          "direct revision: ask for the revision without a critique first (an ablation)",
        )
        .option(
          "--few-shot <n>",
          "use only the first N few-shot examples (default: all)",
          intFlag("--few-shot", 0),
        ),
    ),
  ).action(
    runAction(async (flags: ReviseFlags) => {
      const { temperature } = samplingFlags(flags);
      const loaded = flags.constitution
        ? await loadConstitution(flags.constitution)
        : await loadDefaultConstitution();
      const constitution = withFewShot(loaded, flags.fewShot);
      const prompts = await loadPrompts(
        flags.prompts.length > 0 ? flags.prompts : ["red-team"],
        flags.split,
        flags.limit,
        flags,
      );

      // Before the models load, so a second process on the same --out is refused at once.
      const lock = lockRunDir(flags.out);
      const { options, cache } = stageModelOptions(flags, flags.concurrency);
      const policy = await createModel(flags.model, options);
      const critic =
        flags.critic && flags.critic !== flags.model ? await createModel(flags.critic, options) : policy;
      const stop = stopOnSigint();
      try {
        const result = await runRevise({
          runDir: flags.out,
          prompts,
          policy,
          critic,
          constitution,
          templates: turnRenderers(constitution),
          samplePrinciple,
          constitutionHash: constitutionHash(constitution),
          config: {
            policy: flags.model,
            critic: flags.critic ?? flags.model,
            rounds: flags.rounds,
            seed: flags.seed,
            maxTokens: flags.maxTokens,
            temperature,
            earlyStop: flags.earlyStop,
            ...(flags.keepWhenFine ? { keepWhenFine: true } : {}),
            ...(flags.critique === false ? { critique: false } : {}),
          },
          concurrency: flags.concurrency,
          maxAttempts: flags.maxAttempts,
          restart: flags.restart,
          stop: stop.signal,
          progress: createProgress({ label: "revise", unit: "prompts" }),
        });
        const { counts } = result;
        if (result.interrupted) reportStopped("revise", { counts, unit: "prompts" });
        else {
          console.log(
            `revise: ${counts.done}/${counts.total} done, ${counts.failed} failed, in ${flags.out}`,
          );
        }
        reportFailures("revise", result, flags.maxFailures);
      } finally {
        stop.dispose();
        await policy.close?.();
        if (critic !== policy) await critic.close?.();
        cache?.close();
        lock.release();
      }
    }),
  );
}

/** The constitution with only its first `count` critique examples (all when undefined). */
function withFewShot(constitution: Constitution, count: number | undefined): Constitution {
  if (count === undefined || !constitution.examples) return constitution;
  const critique = constitution.examples.critique?.slice(0, count);
  return { ...constitution, examples: { ...constitution.examples, ...(critique ? { critique } : {}) } };
}

/** The prompts of every set named, filtered to the split, first `limit` of them, as revise prompts. */
async function loadPrompts(
  sets: string[],
  split: string,
  limit: number | undefined,
  flags: PromptFileFlags,
): Promise<RevisePrompt[]> {
  return (await selectPrompts(sets, split, limit, promptFileOptions(flags))).map((record) => ({
    id: record.id,
    kind: record.kind,
    category: record.category,
    split: record.split,
    prompt: record.prompt,
  }));
}
