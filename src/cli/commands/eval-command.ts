// `cai eval`: the tournament by which Constitutional AI is measured — every contestant answers held-out
// helpful and red-team prompts, a judge compares every pair in both orders (helpfulness on helpful
// prompts, harmlessness on red-team ones) and classifies each response for the absolute rates, and the
// Elo ratings with bootstrap intervals are drawn as the harmlessness-vs-helpfulness frontier. Both phases
// resume from their run directories.
import { existsSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import path from "node:path";
import { type Command, InvalidArgumentError } from "commander";
import { loadDefaultConstitution } from "../../constitution/load-constitution.js";
import { turnRenderers } from "../../constitution/templates.js";
import { selectPrompts } from "../../data/prompt-selection.js";
import { promptMessages } from "../../data/prompt-set.js";
import { CaiError } from "../../errors/cai-error.js";
import { evalReportData } from "../../eval/eval-report.js";
import {
  pendingItems,
  queueItems,
  readAnswers,
  readQueue,
  writeQueue,
} from "../../eval/human/human-queue.js";
import { humanReportData } from "../../eval/human/human-report.js";
import { labelInTerminal } from "../../eval/human/terminal-labeller.js";
import type { EvalReportData } from "../../eval/report/report-data.js";
import { writeReport } from "../../eval/report/report-html.js";
import { type EvalPrompt, runEval } from "../../eval/run-eval.js";
import { createModel } from "../../models/create-model.js";
import type { LanguageModel } from "../../models/model.js";
import { createProgress } from "../../runs/progress.js";
import { lockRunDir } from "../../runs/run-dir-lock.js";
import { respondRecords, runRespond } from "../../stages/respond/run-respond.js";
import { addModelFlags, type ModelFlags, stageModelOptions } from "../model-flags.js";
import {
  type PromptFileFlags,
  promptCategoryOption,
  promptFileOptions,
  promptKindOption,
  splitOption,
} from "../prompt-flags.js";
import { collectFlag, intFlag, runAction } from "../run-action.js";
import { reportStopped } from "../run-flags.js";
import { stopOnSigint } from "../stop-on-sigint.js";

interface EvalFlags extends ModelFlags, PromptFileFlags {
  model: string[];
  name: string[];
  judge: string;
  out: string;
  baseline?: string;
  prompts: string[];
  split: string;
  limit?: number;
  maxTokens: number;
  seed: number;
  bootstrap: number;
  concurrency: number;
  restart: boolean;
  cot?: boolean;
}

/** The files of a human-judged evaluation, under OUT/human. */
const humanQueueFileName = "queue.jsonl";
const humanAnswersFileName = "answers.jsonl";

/** Registers `cai eval`. */
export function registerEvalCommand(program: Command): void {
  addModelFlags(
    program
      .command("eval")
      .description(
        "tournament: helpfulness and harmlessness Elo of ≥ 2 models from pairwise judgments, with the frontier report",
      )
      .requiredOption("--model <spec>", "a contestant (repeat: at least two)", collectFlag, [])
      .option("--name <name>", "short names of the contestants, in --model order (repeat)", collectFlag, [])
      .requiredOption(
        "--judge <spec>",
        "the judge model (may differ from every contestant), or `human`: queue the comparisons for `cai judge`",
      )
      .requiredOption("--out <dir>", "output directory (rerun the same command to resume)")
      .option(
        "--cot",
        "the judge reasons before answering (P(A) clamped to 0.4–0.6; reasoning in the report)",
      )
      .option("--baseline <name>", "the contestant the ratings are anchored to (default: the first)")
      .option("--prompts <set>", "prompt sets (default: helpful and red-team)", collectFlag, [])
      .addOption(splitOption("test"))
      .addOption(promptKindOption())
      .addOption(promptCategoryOption())
      .option("--limit <n>", "only the first N prompts of each set", intFlag("--limit", 1))
      .option("--max-tokens <n>", "longest response", intFlag("--max-tokens", 1), 128)
      .option("--seed <n>", "seed of sampling and of the bootstrap", intFlag("--seed"), 0)
      .option("--bootstrap <n>", "bootstrap resamples for the intervals", intFlag("--bootstrap", 1), 1000)
      .option("--concurrency <n>", "prompts worked on at once", intFlag("--concurrency", 1), 4)
      .option("--restart", "discard the runs in --out and start again", false),
  ).action(
    runAction(async (flags: EvalFlags) => {
      if (flags.model.length < 2) throw new CaiError("cai eval needs at least two --model contestants");
      if (new Set(flags.model).size !== flags.model.length) throw new CaiError("a --model is given twice");
      const names = flags.name.length > 0 ? flags.name : flags.model;
      if (names.length !== flags.model.length)
        throw new InvalidArgumentError(`${names.length} --name for ${flags.model.length} --model`);
      const baseline = flags.baseline === undefined ? 0 : names.indexOf(flags.baseline);
      if (baseline < 0) throw new CaiError(`--baseline ${flags.baseline} is not one of ${names.join(", ")}`);
      const sets = flags.prompts.length > 0 ? flags.prompts : ["helpful", "red-team"];
      const prompts = [];
      for (const set of sets)
        prompts.push(...(await selectPrompts([set], flags.split, flags.limit, promptFileOptions(flags))));

      // One lock over --out covers its responses and judgments runs; taken before the models load.
      const lock = lockRunDir(flags.out);
      const { options, cache } = stageModelOptions(flags, flags.concurrency);
      const loaded: LanguageModel[] = [];
      const stop = stopOnSigint();
      try {
        for (const spec of flags.model) loaded.push(await createModel(spec, options));
        const responded = await runRespond({
          runDir: path.join(flags.out, "responses"),
          prompts: prompts.map((p) => ({
            id: p.id,
            kind: p.kind,
            category: p.category,
            split: p.split,
            prompt: promptMessages(p),
          })),
          models: loaded,
          config: {
            models: flags.model,
            samples: 1,
            seed: flags.seed,
            temperature: 0,
            maxTokens: flags.maxTokens,
          },
          concurrency: flags.concurrency,
          restart: flags.restart,
          stop: stop.signal,
          progress: createProgress({ label: "eval: responses", unit: "prompts" }),
        });
        if (responded.interrupted) {
          reportStopped("eval", { counts: responded.counts, unit: "prompts", phase: "sampling responses" });
          return;
        }
        const rows = respondRecords(path.join(flags.out, "responses"));
        const evalPrompts: EvalPrompt[] = rows.map((row) => ({
          id: row.id,
          kind: row.kind,
          prompt: row.prompt,
          responses: flags.model.map((spec) => row.responses.find((r) => r.model === spec)?.text ?? ""),
        }));
        if (flags.judge === "human") {
          await humanJudging(flags.out, evalPrompts, names, flags, baseline);
          return;
        }
        const judge = flags.model.includes(flags.judge)
          ? (loaded[flags.model.indexOf(flags.judge)] as LanguageModel)
          : await createModel(flags.judge, options);
        if (!loaded.includes(judge)) loaded.push(judge);
        const constitution = await loadDefaultConstitution();
        const judged = await runEval({
          runDir: path.join(flags.out, "judgments"),
          prompts: evalPrompts,
          judge,
          renderers: turnRenderers(constitution),
          config: {
            contestants: flags.model,
            judge: flags.judge,
            ...(flags.cot ? { mode: "cot" as const } : {}),
          },
          concurrency: flags.concurrency,
          restart: flags.restart,
          stop: stop.signal,
          progress: createProgress({ label: "eval: judgments", unit: "prompts" }),
        });
        const judgedByModel = evalReportData(path.join(flags.out, "judgments"), {
          names,
          baseline,
          bootstrapRounds: flags.bootstrap,
          seed: flags.seed,
        });
        const human = await humanRatings(flags.out, names, flags, baseline);
        const data = human ? { ...judgedByModel, human } : judgedByModel;
        const report = await writeReport(path.join(flags.out, "report"), data);
        for (const [i, name] of names.entries()) {
          const h = data.axes.helpfulness.ratings[i];
          const s = data.axes.harmlessness.ratings[i];
          console.error(
            `${name.padEnd(16)} helpfulness ${h?.elo.toFixed(0)} [${h?.interval.map((x) => x.toFixed(0)).join(", ")}]` +
              `  harmlessness ${s?.elo.toFixed(0)} [${s?.interval.map((x) => x.toFixed(0)).join(", ")}]`,
          );
        }
        if (judged.interrupted)
          reportStopped("eval", {
            counts: judged.counts,
            unit: "prompts",
            phase: "judging",
            note: "the report covers the judgments so far",
          });
        console.log(report.html);
      } finally {
        stop.dispose();
        for (const model of loaded) await model.close?.();
        cache?.close();
        lock.release();
      }
    }),
  );
}

/**
 * `--judge human`: queues every comparison (once) in OUT/human/queue.jsonl for `cai judge OUT`, and once
 * answers exist, rates the contestants from them into OUT/report (absolute rates are not measured).
 */
async function humanJudging(
  out: string,
  prompts: readonly EvalPrompt[],
  names: readonly string[],
  flags: EvalFlags,
  baseline: number,
): Promise<void> {
  const queueFile = path.join(out, "human", humanQueueFileName);
  const answersFile = path.join(out, "human", humanAnswersFileName);
  if (!existsSync(queueFile)) {
    await mkdir(path.dirname(queueFile), { recursive: true });
    const pairs = prompts.flatMap((p) =>
      p.responses.flatMap((_, i) =>
        p.responses.slice(i + 1).map((__, k) => {
          const j = i + 1 + k;
          return {
            id: `${p.id}:${i}-${j}`,
            axis: p.kind === "helpful" ? ("helpfulness" as const) : ("harmlessness" as const),
            prompt: [...p.prompt],
            first: { contestant: i, text: p.responses[i] ?? "" },
            second: { contestant: j, text: p.responses[j] ?? "" },
          };
        }),
      ),
    );
    await writeQueue(queueFile, queueItems(pairs, flags.seed));
  }
  const items = await readQueue(queueFile);
  const answers = await readAnswers(answersFile);
  const pending = pendingItems(items, answers).length;
  if (answers.size === 0) {
    console.error(
      `eval: ${items.length} comparisons queued in ${queueFile}; label them with: cai judge ${out}`,
    );
    return;
  }
  const data = humanReportData(items, answers, {
    names,
    specs: flags.model,
    baseline,
    bootstrapRounds: flags.bootstrap,
    seed: flags.seed,
  });
  const report = await writeReport(path.join(out, "report"), data);
  console.error(
    `eval: human ratings from ${answers.size} answers` +
      (pending > 0 ? `; ${pending} comparisons still to label (cai judge ${out})` : ""),
  );
  console.log(report.html);
}

/** A person's ratings of the same tournament, when `cai judge` answers exist in OUT/human. */
async function humanRatings(
  out: string,
  names: readonly string[],
  flags: EvalFlags,
  baseline: number,
): Promise<EvalReportData["human"]> {
  const queueFile = path.join(out, "human", humanQueueFileName);
  if (!existsSync(queueFile)) return undefined;
  const answers = await readAnswers(path.join(out, "human", humanAnswersFileName));
  if (answers.size === 0) return undefined;
  const data = humanReportData(await readQueue(queueFile), answers, {
    names,
    specs: flags.model,
    baseline,
    bootstrapRounds: flags.bootstrap,
    seed: flags.seed,
  });
  return { answers: answers.size, axes: data.axes };
}

/** Registers `cai judge`: the terminal labeller of a `cai eval --judge human` queue. */
export function registerJudgeCommand(program: Command): void {
  program
    .command("judge")
    .description("label the comparisons `cai eval --judge human` queued: a/b/t(ie)/s(kip), q to stop")
    .argument("<dir>", "the --out directory of cai eval --judge human")
    .action(
      runAction(async (dir: string) => {
        const session = await labelInTerminal({
          queueFile: path.join(dir, "human", humanQueueFileName),
          answersFile: path.join(dir, "human", humanAnswersFileName),
          input: process.stdin,
          output: process.stderr,
        });
        console.error(
          `judge: ${session.answered} answered, ${session.remaining} to go` +
            (session.remaining === 0 ? " — rerun cai eval with --judge human for the report" : ""),
        );
      }),
    );
}
