// `cai demo`: the whole Constitutional AI loop on the shipped model organism, with ground truth.
// The unchanged pipeline runs on it through the normal llama: backend — revise (4 rounds of critique →
// revision of the red-team prompts, a revision skipped when the critique finds nothing to change; drafts
// of the helpfulness prompts as helpfulness samples), export (the answers after each round), train sft
// (SL-CAI after 1..4 rounds, on revisions plus helpfulness samples, as in the paper), respond (pairs
// from SL-CAI), label (the organism as feedback model, by log-probs, on the red-team prompts' pairs;
// ground truth stands in for the paper's human helpfulness labels on the rest), train dpo, eval (the
// organism as judge) — and every model is also measured by the world's exact judge. Controls: the same
// loop with ground-truth revisions (the ceiling) and on the organism pretrained without ethics text (the
// knowledge ablation). The report is `cai eval`'s, with the ground-truth frontier and the organism's tables.
import { existsSync, readFileSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { stringify } from "yaml";
import type { Constitution, ConstitutionInput } from "../../constitution/constitution-schema.js";
import {
  constitutionHash,
  loadConstitution,
  parseConstitution,
} from "../../constitution/load-constitution.js";
import { samplePrinciple } from "../../constitution/sampling.js";
import { turnRenderers } from "../../constitution/templates.js";
import { readJsonLines, writeJsonLines } from "../../data/jsonl-file.js";
import { evalReportData } from "../../eval/eval-report.js";
import { type OveroptimisationPoint, overoptimisationSvg } from "../../eval/report/overoptimisation-chart.js";
import type { EvalReportData, ReportFigure } from "../../eval/report/report-data.js";
import { writeReport } from "../../eval/report/report-html.js";
import { rlCurveSeries, trainingCurvesSvg } from "../../eval/report/training-curves.js";
import { type EvalPrompt, runEval } from "../../eval/run-eval.js";
import { readRevisedRecords } from "../../export/read-run.js";
import { type RevisedRecord, revisionRow, traceAtRound } from "../../export/revision-datasets.js";
import { createModel } from "../../models/create-model.js";
import type { LanguageModel } from "../../models/model.js";
import { createProgress } from "../../runs/progress.js";
import { humanPreferenceRows } from "../../stages/label/human-preferences.js";
import { type LabelPair, labelledRows, responsePairs, runLabel } from "../../stages/label/run-label.js";
import { type RespondPrompt, respondRecords, runRespond } from "../../stages/respond/run-respond.js";
import { type RevisePrompt, runRevise } from "../../stages/revise/run-revise.js";
import { trainDpo } from "../../train/train-dpo.js";
import { trainSft } from "../../train/train-sft.js";
import { classifyTruth } from "../ground-truth.js";
import {
  answers,
  type BehaviourMeasures,
  behaviourOf,
  critiqueAccuracy,
  type Share,
  share,
} from "../measure.js";
import {
  classificationTemplate,
  fewShotExample,
  organismConstitution,
  organismQuestions,
} from "../organism-constitution.js";
import { pairSeen, requestKind, sampleRequests } from "../requests.js";
import { type Request, refusalText, requestMessages } from "../texts.js";
import { isHarmful } from "../world.js";
import {
  agreementOf,
  helpfulnessLabels,
  type LabelPhaseResult,
  promptIdOf,
  writeHardLabels,
} from "./demo-labels.js";
import { DemoOutdatedRunError } from "./demo-outdated-run-error.js";
import { DemoPhases } from "./demo-phase.js";
import { DemoRecordsFailedError } from "./demo-records-failed-error.js";
import { DemoStoppedError } from "./demo-stopped-error.js";
import { demoTables } from "./demo-tables.js";
import { JobSlots } from "./job-slots.js";
import { type RevisionQuality, revisionQuality } from "./revision-quality.js";
import { overoptimisationPoints, rlAblationRuns, runRlAblations } from "./rl-ablations.js";
import {
  type PreferenceModelMeasures,
  preferenceModelAccuracy,
  quickRlSizes,
  type RlComparisonInput,
  type RlRunResult,
  type RlSizes,
  rlSizes,
  runRlComparison,
  smokeRlSizes,
} from "./rl-comparison.js";
import { rlAblationTable, rlTables } from "./rl-tables.js";
import { runTrainingJob } from "./training-job.js";
import { type TruthPrompt, truthAxes } from "./truth-ratings.js";

/** How big the demo is. */
export interface DemoSizes {
  /** Requests the loop revises, samples and labels (train pairs). */
  readonly loopPrompts: number;
  /** Held-out requests every model is measured and judged on (test pairs). */
  readonly evalPrompts: number;
  /** Critique → revision rounds (SL-CAI after 1..rounds is trained and compared). */
  readonly rounds: number;
  /**
   * Sampling temperature of drafts, critiques and revisions (cai revise's default is 1). 0.85: the
   * organism's critiques are then right 80–90% of the time — greedy it is nearly always right.
   */
  readonly reviseTemperature: number;
  readonly sftEpochs: number;
  /** LoRA rank and learning rate of SL-CAI (the adapter is merged into a model for the next stage). */
  readonly sftRank: number;
  readonly sftLr: number;
  /** Sampling temperature of the pairs DPO learns from. */
  readonly dpoTemperature: number;
  /** Samples per prompt from SL-CAI for the preference pairs. */
  readonly dpoSamples: number;
  readonly dpoEpochs: number;
  readonly dpoLr: number;
  readonly dpoBeta: number;
  readonly bootstrap: number;
  /** The RL comparison (RL-CAI against RLHF). */
  readonly rl: RlSizes;
}

/** The full demo's sizes (the README's). */
const fullSizes: DemoSizes = {
  loopPrompts: 400,
  evalPrompts: 180,
  rounds: 4,
  reviseTemperature: 0.85,
  sftEpochs: 4,
  sftRank: 16,
  sftLr: 5e-3,
  dpoTemperature: 0.7,
  dpoSamples: 4,
  dpoEpochs: 2,
  dpoLr: 1e-4,
  // β 1 holds DPO close to SL-CAI, as RL-CAI's KL penalty holds the policy: at β 0.1–0.3 DPO on the
  // organism's labels drifted to comply with 8–10% of held-out harm again (SL-CAI: 5%).
  dpoBeta: 1,
  bootstrap: 500,
  rl: rlSizes,
};

/** The demo's sizes by name: `cai demo`, `--quick` and `--smoke`. */
export type DemoSize = "full" | "quick" | "smoke";

/**
 * The full demo (the README's), the reduced one CI measures, and the smallest one that runs every phase
 * (its numbers mean nothing: it checks an install in about a minute, and CI checks reruns match on it).
 */
export const demoSizes: Readonly<Record<DemoSize, DemoSizes>> = {
  full: fullSizes,
  quick: { ...fullSizes, evalPrompts: 90, dpoSamples: 3, bootstrap: 200, rl: quickRlSizes },
  smoke: {
    ...fullSizes,
    loopPrompts: 24,
    evalPrompts: 12,
    rounds: 2,
    sftEpochs: 1,
    dpoSamples: 2,
    dpoEpochs: 1,
    bootstrap: 20,
    rl: smokeRlSizes,
  },
};

/** Options of {@link runDemo}. */
export interface DemoOptions {
  /** Output directory (rerun to resume). */
  readonly out: string;
  /** The pretrained organism (GGUF). */
  readonly organism: string;
  /** The organism pretrained without ethics text (the knowledge ablation). */
  readonly ablationOrganism: string;
  readonly sizes: DemoSizes;
  /** Also run the ablations (one principle, a few-shot example, direct revision, hard labels). */
  readonly ablations?: boolean;
  readonly seed?: number;
  /** llama.cpp threads per model. Default 1: tiny models gain nothing from more, and lose much when cores are shared. */
  readonly threads?: number;
  /**
   * Training jobs (SL-CAI rounds, preference models, RL runs) run at once, each in its own process.
   * Default: 2, or 1 on one core.
   */
  readonly jobs?: number;
  readonly stop?: AbortSignal;
  /** Progress lines. Default: stderr. */
  readonly log?: (line: string) => void;
}

/** A model of the demo, by ground truth on the held-out requests. */
export interface DemoModelMeasures {
  readonly name: string;
  readonly behaviour: BehaviourMeasures;
  /** Harmful compliance on pairs the pretraining dialogues complied with, and on pairs never seen. */
  readonly seenHarmful: Share;
  readonly unseenHarmful: Share;
  /** Harmful compliance on requests whose verb only ethics text names as harmful. */
  readonly ethicsOnlyHarmful: Share;
}

/** What the demo measured. */
export interface DemoSummary {
  /** The tournament's contestants (base, SL-CAI after each round, DPO), measured by ground truth. */
  readonly models: readonly DemoModelMeasures[];
  /** Controls, measured the same way: the ceiling and the knowledge ablation. */
  readonly controls: readonly DemoModelMeasures[];
  /** With `ablations`: the loop with one thing changed, measured the same way. */
  readonly ablations: readonly DemoModelMeasures[];
  /** Critique accuracy of the organism (and of the ablation) on held-out requests, by ground truth. */
  readonly critique: { readonly organism: Share; readonly ethicsOnly: Share; readonly ablation: Share };
  /** AI labels (the organism's log-prob judgments of the red-team DPO pairs) agreeing with ground truth. */
  readonly labelAgreement: Share;
  /** The same, on the pairs whose soft label leans at least 55/45 either way. */
  readonly leaningLabelAgreement: Share;
  /**
   * The organism's labels of the helpfulness prompts' pairs, which DPO does not use (ground-truth
   * helpfulness labels stand in for human ones there), agreeing with ground truth.
   */
  readonly helpfulLabelAgreement: Share;
  /** What SL-CAI learns from, by ground truth: the red-team answers after 0..rounds rounds, the helpfulness samples. */
  readonly revisions: RevisionQuality;
  /** RL-CAI against RLHF: the preference models and the RL runs (their checkpoints are contestants `RUN@STEP`). */
  readonly rl: {
    readonly preferenceModels: readonly PreferenceModelMeasures[];
    readonly runs: ReadonlyArray<
      Pick<RlRunResult, "name" | "start" | "reward"> & {
        /** Per step: mean KL per answer to the start model, and the mean score. */
        readonly kl: readonly number[];
        readonly score: readonly number[];
      }
    >;
  };
  /**
   * With `ablations`: RL-CAI on hard labels and without the KL penalty, d-RLAIF with two principles —
   * their final checkpoints by ground truth, the hard-label preference model, and the over-optimisation
   * curves of RL-CAI with and without the penalty.
   */
  readonly rlAblations: {
    readonly models: readonly DemoModelMeasures[];
    readonly preferenceModels: readonly PreferenceModelMeasures[];
    readonly runs: DemoSummary["rl"]["runs"];
    readonly overoptimisation: readonly OveroptimisationPoint[];
  } | null;
  readonly report: EvalReportData;
  readonly reportHtml: string;
  readonly seconds: Readonly<Record<string, number>>;
}

/** An RL run as the summary keeps it: per step, its KL and score. */
function runSummary({ name, start, reward, history }: RlRunResult): DemoSummary["rl"]["runs"][number] {
  return {
    name,
    start,
    reward,
    kl: history.map((r) => r.metrics?.kl ?? Number.NaN),
    score: history.map((r) => r.metrics?.score ?? Number.NaN),
  };
}

/** The SFT rows of revised records, sorted by id as `cai export` writes them. */
function sftRows(records: readonly RevisedRecord[]): Array<{ messages: unknown }> {
  return [...records]
    .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
    .map((r) => revisionRow(r, "sft") as { messages: unknown });
}

/** Ground-truth measures of greedy answers to the held-out requests. */
function measuresOf(
  name: string,
  requests: readonly Request[],
  responses: readonly string[],
): DemoModelMeasures {
  const harmful = (keep: (r: Request) => boolean) => {
    const chosen = requests
      .map((r, i) => [r, responses[i] ?? ""] as const)
      .filter(([r]) => isHarmful(r) && keep(r));
    return share(chosen.filter(([r, text]) => classifyTruth(r, text).complies).length, chosen.length);
  };
  return {
    name,
    behaviour: behaviourOf(requests, responses),
    seenHarmful: harmful((r) => pairSeen(r.verb, r.target)),
    unseenHarmful: harmful((r) => !pairSeen(r.verb, r.target)),
    ethicsOnlyHarmful: harmful((r) => r.verb.split === "ethics-only"),
  };
}

/** How the evaluation judges a held-out request: harmless ones for helpfulness, harmful ones for harmlessness. */
const promptKind = (r: Request) => (isHarmful(r) ? ("red-team" as const) : ("helpful" as const));

/**
 * The loop's prompt sets, as a red team would write them: every request naming a harm verb is a red-team
 * prompt (half of them are look-alikes that do no harm — the loop is not told which), the rest are
 * helpfulness prompts. As in the paper, SL-CAI learns from revisions of the red-team prompts plus
 * helpfulness samples (the drafts of the helpfulness prompts, not revised).
 */
const loopKind = (r: Request) => (r.verb.kind !== null ? ("red-team" as const) : ("helpful" as const));

/**
 * Stops before any work when `out` holds DPO labels an older cai demo stored: those labelled the
 * helpfulness prompts by the organism too, so DPO and its agreement figures would mix two loops.
 */
function refuseOutdatedLabels(out: string): void {
  const file = path.join(out, "phases", "label.json");
  if (!existsSync(file)) return;
  const stored = JSON.parse(readFileSync(file, "utf8")) as { result?: Partial<LabelPhaseResult> };
  if (stored.result?.humanPairs === undefined)
    throw new DemoOutdatedRunError(
      `${out} holds DPO labels from an older cai demo (without ground-truth helpfulness labels); rerun with --restart`,
    );
}

/** Runs the demo; see the file comment. */
export async function runDemo(options: DemoOptions): Promise<DemoSummary> {
  const log = options.log ?? ((line: string) => console.error(line));
  const { sizes, out } = options;
  const seed = options.seed ?? 0;
  refuseOutdatedLabels(out);
  const phases = new DemoPhases(out, (line) => log(`demo: ${line}`), options.stop);
  const stopped = () => {
    if (options.stop?.aborted) throw new DemoStoppedError("stopped; rerun the same command to resume");
  };
  const loaded = new Map<string, LanguageModel>();
  const model = async (file: string, adapter?: string) => {
    const spec = `llama:${file}${adapter ? `+${adapter}` : ""}`;
    let m = loaded.get(spec);
    if (!m) {
      m = await createModel(spec, {
        llama: { threads: options.threads ?? 1, gpu: false, parallel: 1, contextSize: 512 },
      });
      loaded.set(spec, m);
    }
    return { spec, model: m };
  };

  try {
    // Prompts and constitution, written for anyone who wants to rerun a stage by hand.
    const loop = sampleRequests(seed * 7919 + 1, sizes.loopPrompts, { split: "train" });
    const held = sampleRequests(seed * 7919 + 2, sizes.evalPrompts, { split: "test" });
    const loopPrompts: Array<RevisePrompt & RespondPrompt> = loop.map((r, i) => ({
      id: `loop-${String(i).padStart(4, "0")}`,
      kind: loopKind(r),
      category: requestKind(r),
      split: "train",
      prompt: requestMessages(r),
    }));
    const requestOf = new Map(loopPrompts.map((p, i) => [p.id, loop[i] as Request]));
    const constitutionFile = path.join(out, "constitution.yaml");
    await phases.run("prompts", async () => {
      await writeJsonLines(
        path.join(out, "prompts", "loop.jsonl"),
        loopPrompts.map((p) => ({ ...p, source: "cai-organism" })),
      );
      await writeJsonLines(
        path.join(out, "prompts", "eval.jsonl"),
        held.map((r, i) => ({
          id: `eval-${String(i).padStart(4, "0")}`,
          kind: promptKind(r),
          category: requestKind(r),
          split: "test",
          prompt: requestMessages(r),
          source: "cai-organism",
        })),
      );
      await writeFile(constitutionFile, stringify(organismConstitution()));
      return { loop: loop.length, eval: held.length };
    });
    const constitution = await loadConstitution(constitutionFile);
    const renderers = turnRenderers(constitution);
    const base = await model(options.organism);

    // The organism as critic, by ground truth.
    const critique = await phases.run("critique accuracy", async () => {
      const harm = held.filter((r) => r.verb.kind !== null);
      const ablation = await model(options.ablationOrganism);
      // At the temperature the loop critiques at, under the general principle.
      const t = sizes.reviseTemperature;
      const ethicsOnly = harm.filter((r) => r.verb.split === "ethics-only");
      return {
        organism: await critiqueAccuracy(base.model, harm, "any", t),
        ethicsOnly: await critiqueAccuracy(base.model, ethicsOnly, "any", t),
        ablation: await critiqueAccuracy(ablation.model, harm, "any", t),
      };
    });

    // SL-CAI: revise, then one model per number of rounds.
    const redTeam = loopPrompts.filter((p) => p.kind === "red-team");
    const helpfulPrompts = loopPrompts.filter((p) => p.kind === "helpful");
    const revise = async (
      name: string,
      organism: string,
      extra: {
        critique?: boolean;
        constitution?: Constitution;
        helpfulness?: boolean;
        rounds?: number;
        /** Train on the prompts that fit the context instead of stopping (the few-shot ablation). */
        tolerateFailures?: boolean;
      } = {},
    ) => {
      const policy = await model(organism);
      const runDir = path.join(out, name);
      const used = extra.constitution ?? constitution;
      const outcome = await runRevise({
        runDir,
        prompts: extra.helpfulness ? helpfulPrompts : redTeam,
        policy: policy.model,
        critic: policy.model,
        constitution: used,
        templates: turnRenderers(used),
        samplePrinciple,
        constitutionHash: constitutionHash(used),
        config: {
          policy: policy.spec,
          critic: policy.spec,
          // Helpfulness samples: drafts only.
          rounds: extra.helpfulness ? 0 : (extra.rounds ?? sizes.rounds),
          seed,
          maxTokens: 48,
          temperature: sizes.reviseTemperature,
          earlyStop: false,
          ...(extra.critique === false ? { critique: false } : { keepWhenFine: true }),
        },
        concurrency: 1,
        ...(options.stop ? { stop: options.stop } : {}),
        progress: createProgress({ label: `demo: ${name}` }),
      });
      stopped();
      const failed = DemoRecordsFailedError.of(runDir, outcome);
      if (failed && !extra.tolerateFailures) throw failed;
      return runDir;
    };
    const jobs = options.jobs ?? Math.min(2, os.availableParallelism());
    /** SFT on `rows`, merged into a model; `inChild`: in a child process of its own (see training-job.ts). */
    const sft = async (
      name: string,
      rows: ReadonlyArray<{ messages: unknown }>,
      organism = options.organism,
      inChild = false,
    ) => {
      const dir = path.join(out, name);
      const data = path.join(dir, "sft.jsonl");
      await writeJsonLines(data, rows);
      const batchSize = 16;
      const settings = {
        base: organism,
        data,
        out: dir,
        merge: true,
        rank: sizes.sftRank,
        alpha: 2 * sizes.sftRank,
        lr: sizes.sftLr,
        batchSize,
        steps: Math.ceil((sizes.sftEpochs * rows.length) / batchSize),
        seed,
        resume: true,
      };
      const result = inChild
        ? await runTrainingJob({ kind: "sft", options: settings }, options.stop).then((done) => {
            if (done.kind !== "sft") throw new RangeError("an SFT job answered with no SFT result");
            return done;
          })
        : await trainSft({ ...settings, ...(options.stop ? { stop: options.stop } : {}) });
      stopped();
      return { model: result.model ?? result.output, finalLoss: result.finalLoss, steps: result.step };
    };
    const reviseDir = await phases.run("revise", () => revise("revise", options.organism));
    const records = readRevisedRecords(reviseDir);
    const helpful = readRevisedRecords(
      await phases.run("helpfulness samples", () =>
        revise("helpfulness-samples", options.organism, { helpfulness: true }),
      ),
    );
    const revisions = revisionQuality(records, helpful, requestOf, sizes.rounds);
    // SL-CAI after each number of rounds: independent runs, `jobs` at a time, each in its own process.
    const slots = new JobSlots(jobs);
    const slCai = await Promise.all(
      Array.from({ length: sizes.rounds }, (_, i) => i + 1).map(async (round) => {
        const trained = await slots.run(() =>
          phases.run(`sl-cai after ${round} round${round > 1 ? "s" : ""}`, async () => {
            const revised = records.map((r) => ({ ...r, trace: traceAtRound(r.trace, round) }));
            const rows = sftRows([...revised, ...helpful]);
            return sft(`sl-cai-r${round}`, rows, options.organism, true);
          }),
        );
        return trained.model;
      }),
    );
    const slFinal = slCai.at(-1) as string;

    // RL-CAI with DPO: pairs sampled from SL-CAI, labelled, trained on SL-CAI. As the paper trains its
    // preference model on human helpfulness comparisons plus AI harmlessness labels, the organism labels
    // the red-team prompts' pairs, and ground-truth helpfulness labels stand in for the human ones on the
    // helpfulness prompts' pairs (mixed in as `cai label --mix-human` does). The organism judges those
    // pairs too, only to report how its labels would have done there.
    const preferences = path.join(out, "dpo", "preferences.jsonl");
    const kindOf = new Map(loopPrompts.map((p) => [p.id, p.kind]));
    const ofKind =
      (kind: string) =>
      ({ id }: { id: string }) =>
        kindOf.get(promptIdOf(id)) === kind;
    // The organism as feedback model: `cai label` by log-probs, one principle drawn per pair.
    const labelPairs = async (runDir: string, pairs: readonly LabelPair[]) => {
      await runLabel({
        runDir,
        pairs,
        judge: base.model,
        constitution,
        renderers,
        constitutionHash: constitutionHash(constitution),
        config: {
          judge: base.spec,
          mode: "logprobs",
          principles: 1,
          fewShot: 0,
          seed,
          clamp: [0.4, 0.6],
          votes: 5,
        },
        concurrency: 1,
        ...(options.stop ? { stop: options.stop } : {}),
        progress: createProgress({ label: `demo: label ${path.basename(path.dirname(runDir))}` }),
      });
      stopped();
      return labelledRows(runDir);
    };
    const labels = await phases.run<LabelPhaseResult>("label", async () => {
      const policy = await model(slFinal);
      await runRespond({
        runDir: path.join(out, "dpo", "responses"),
        prompts: loopPrompts,
        models: [policy.model],
        config: {
          models: [policy.spec],
          samples: sizes.dpoSamples,
          seed,
          temperature: sizes.dpoTemperature,
          maxTokens: 48,
        },
        concurrency: 1,
        ...(options.stop ? { stop: options.stop } : {}),
        progress: createProgress({ label: "demo: respond" }),
      });
      stopped();
      const pairs = responsePairs(respondRecords(path.join(out, "dpo", "responses"))).filter(
        (p) => p.first.text !== p.second.text,
      );
      const rows = await labelPairs(path.join(out, "dpo", "labels"), pairs);
      const aiRows = rows.filter(ofKind("red-team"));
      const humanFile = path.join(out, "dpo", "helpfulness-labels.jsonl");
      await writeJsonLines(humanFile, helpfulnessLabels(pairs.filter(ofKind("helpful")), requestOf));
      const human = await humanPreferenceRows(humanFile);
      await writeJsonLines(preferences, [...aiRows, ...human]);
      return {
        pairs: aiRows.length + human.length,
        humanPairs: human.length,
        ...agreementOf(aiRows, requestOf),
        helpfulAgreement: agreementOf(rows.filter(ofKind("helpful")), requestOf).agreement,
      };
    });
    const dpoRun = async (name: string, data: string) => {
      const batchSize = 8;
      const result = await trainDpo({
        base: slFinal,
        data,
        out: path.join(out, name),
        lr: sizes.dpoLr,
        beta: sizes.dpoBeta,
        batchSize,
        steps: Math.max(1, Math.ceil((sizes.dpoEpochs * labels.pairs) / batchSize)),
        seed,
        resume: true,
        ...(options.stop ? { stop: options.stop } : {}),
      });
      stopped();
      return { adapter: result.adapter, steps: result.step };
    };
    const dpo = await phases.run("dpo", () => dpoRun("dpo", preferences));

    // Controls: the ceiling (ground-truth revisions of the same drafts) and the knowledge ablation.
    // They need no RL, so they run while the RL jobs train in their own processes.
    let controls: Array<{ name: string; responses: string[] }> = [];
    const runControls = async () => {
      controls = await phases.run("controls", async () => {
        const ceilingRows = records.map((r) => {
          const request = requestOf.get(r.id);
          const draft = r.trace.draft;
          const revision =
            request && isHarmful(request) && classifyTruth(request, draft).complies
              ? refusalText(request.verb)
              : draft;
          return { messages: [...r.trace.prompt, { role: "assistant", content: revision }] };
        });
        const ceiling = await sft("ceiling", [...ceilingRows, ...sftRows(helpful)]);
        const ablationDir = await revise("ablation-revise", options.ablationOrganism);
        const ablationHelpful = await revise("ablation-helpfulness-samples", options.ablationOrganism, {
          helpfulness: true,
        });
        const ablationRows = sftRows([
          ...readRevisedRecords(ablationDir),
          ...readRevisedRecords(ablationHelpful),
        ]);
        const ablation = await sft("ablation-sl-cai", ablationRows, options.ablationOrganism);
        const measured: Array<{ name: string; responses: string[] }> = [];
        for (const [name, file] of [
          ["ceiling: sl-cai on ground-truth revisions", ceiling.model],
          ["ablation: no ethics text, base", options.ablationOrganism],
          [`ablation: no ethics text, sl-cai-r${sizes.rounds}`, ablation.model],
        ] as const) {
          const m = await model(file);
          measured.push({ name, responses: await answers(m.model, held, 48) });
        }
        return measured;
      });
    };

    // RL-CAI against RLHF: three preference models and four RL runs (see rl-comparison.ts).
    const slName = `sl-cai-r${sizes.rounds}`;
    const rlInput: RlComparisonInput = {
      out,
      phases,
      sizes: sizes.rl,
      seed,
      organism: options.organism,
      slCai: slFinal,
      slCaiName: slName,
      constitutionFile,
      prompts: loopPrompts,
      requestOf,
      slResponses: respondRecords(path.join(out, "dpo", "responses")),
      label: labelPairs,
      aiRows: labelledRows(path.join(out, "dpo", "labels")).filter(ofKind("red-team")),
      heldPrompts: held
        .slice(0, sizes.rl.heldRewardPrompts)
        .map((r, i) => ({ id: `eval-${String(i).padStart(4, "0")}`, messages: requestMessages(r) })),
      threads: options.threads ?? 1,
      jobs,
      ...(options.stop ? { stop: options.stop } : {}),
    };
    const rl = await runRlComparison({ ...rlInput, alongsideJobs: runControls });
    stopped();

    // The tournament: every model answers the held-out requests; the organism judges every pair.
    const contestants = [
      { name: "base", ...(await model(options.organism)) },
      ...(await Promise.all(
        slCai.map(async (file, i) => ({ name: `sl-cai-r${i + 1}`, ...(await model(file)) })),
      )),
      { name: "dpo", ...(await model(slFinal, dpo.adapter)) },
    ];
    // Each RL run as a trajectory: its start model as step 0, then its evaluated checkpoints.
    for (const run of rl.runs) {
      const start = contestants.find((c) => c.name === run.start);
      if (start) contestants.push({ ...start, name: `${run.name}@0` });
      for (const checkpoint of run.checkpoints)
        contestants.push({
          name: `${run.name}@${checkpoint.step}`,
          ...(await model(run.startModel, checkpoint.adapter)),
        });
    }
    // A model met twice (a trajectory's start) answers once.
    const answering = [...new Map(contestants.map((c) => [c.spec, c])).values()];
    const evalPrompts = held.map((r, i) => ({
      id: `eval-${String(i).padStart(4, "0")}`,
      kind: promptKind(r),
      category: requestKind(r),
      split: "test" as const,
      prompt: requestMessages(r),
    }));
    const responses = await phases.run("responses", async () => {
      await runRespond({
        runDir: path.join(out, "eval", "responses"),
        prompts: evalPrompts,
        models: answering.map((c) => c.model),
        config: { models: answering.map((c) => c.spec), samples: 1, seed, temperature: 0, maxTokens: 48 },
        concurrency: 1,
        ...(options.stop ? { stop: options.stop } : {}),
        progress: createProgress({ label: "demo: responses" }),
      });
      stopped();
      const rows = respondRecords(path.join(out, "eval", "responses"));
      const byId = new Map(rows.map((row) => [row.id, row]));
      return evalPrompts.map((p) => {
        const row = byId.get(p.id);
        return contestants.map((c) => row?.responses.find((r) => r.model === c.spec)?.text ?? "");
      });
    });
    const preferenceModels = await phases.run("rl: preference model accuracy", () =>
      preferenceModelAccuracy(rl.preferenceModels, held, requestMessages, responses),
    );
    await phases.run("judgments", async () => {
      const prompts: EvalPrompt[] = evalPrompts.map((p, i) => ({
        id: p.id,
        kind: p.kind,
        prompt: p.prompt,
        responses: responses[i] ?? [],
      }));
      await runEval({
        runDir: path.join(out, "eval", "judgments"),
        prompts,
        judge: base.model,
        renderers,
        config: {
          contestants: contestants.map((c) => c.spec),
          judge: base.spec,
          rubrics: {
            helpfulness: organismQuestions.helpfulness,
            harmlessness: organismQuestions.harmlessness,
            refusal: organismQuestions.refusal,
            harmfulCompliance: organismQuestions.harmfulCompliance,
            classificationTemplate,
          },
        },
        concurrency: 1,
        ...(options.stop ? { stop: options.stop } : {}),
        progress: createProgress({ label: "demo: judgments" }),
      });
      stopped();
      return {};
    });

    // The paper's ablations, in miniature: each changes one thing of the loop and is measured the same way.
    const mainAblations = async () =>
      phases.run("ablations", async () => {
        const sftOf = (records: readonly RevisedRecord[]) => sftRows([...records, ...helpful]);
        const variant = (input: ConstitutionInput) =>
          parseConstitution(stringify(input), "constitution variant");
        const onePrinciple = variant(organismConstitution(["any"]));
        const withExample = variant({
          ...organismConstitution(),
          examples: { critique: [fewShotExample()] },
        });
        const runs: Array<{ name: string; model: string }> = [];
        const general = await revise("ablation-one-principle", options.organism, {
          constitution: onePrinciple,
        });
        runs.push({
          name: "one general principle",
          ...(await sft("ablation-one-principle-sft", sftOf(readRevisedRecords(general)))),
        });
        // One round, on the prompts that fit: with the example in every turn, some critiques or revisions
        // outgrow the organism's 256-token context (48 of 267 prompts on the shipped organism; most of
        // them over four rounds). Compare it with SL-CAI after one round.
        const fewShot = await revise("ablation-few-shot", options.organism, {
          constitution: withExample,
          rounds: 1,
          tolerateFailures: true,
        });
        const fewShotRecords = readRevisedRecords(fewShot);
        runs.push({
          name: `one few-shot example, 1 round (${fewShotRecords.length} of ${redTeam.length} prompts fit the context)`,
          ...(await sft("ablation-few-shot-sft", sftOf(fewShotRecords))),
        });
        const direct = await revise("ablation-direct", options.organism, { critique: false });
        runs.push({
          name: "direct revision (no critique)",
          ...(await sft("ablation-direct-sft", sftOf(readRevisedRecords(direct)))),
        });
        const hard = path.join(out, "dpo", "preferences-hard.jsonl");
        await writeHardLabels(preferences, hard);
        const hardDpo = await dpoRun("ablation-dpo-hard", hard);
        const measured: Array<{ name: string; responses: string[] }> = [];
        for (const run of runs)
          measured.push({
            name: run.name,
            responses: await answers((await model(run.model)).model, held, 48),
          });
        measured.push({
          name: "DPO on hard labels",
          responses: await answers((await model(slFinal, hardDpo.adapter)).model, held, 48),
        });
        return measured;
      });
    // The RL ablations train in child processes while the loop's ablations run in this one.
    const [ablations, rlAblations] = options.ablations
      ? await Promise.all([mainAblations(), runRlAblations(rlInput, rl)])
      : [[], undefined];
    stopped();
    const rlAblationMeasured = rlAblations
      ? await phases.run("rl ablations: responses", async () => {
          const measured: Array<{ name: string; responses: string[] }> = [];
          for (const run of rlAblations.runs) {
            const last = run.checkpoints.at(-1);
            if (!last) continue;
            const { model: policy } = await model(run.startModel, last.adapter);
            measured.push({ name: `${run.name}@${last.step}`, responses: await answers(policy, held, 48) });
          }
          return measured;
        })
      : [];
    const rlAblationModels = rlAblations
      ? await phases.run("rl ablations: preference model accuracy", () =>
          preferenceModelAccuracy([rlAblations.preferenceModel], held, requestMessages, responses),
        )
      : [];

    // The report: cai eval's, with the ground-truth frontier and the organism's tables.
    const names = contestants.map((c) => c.name);
    const models = contestants.map((c, i) =>
      measuresOf(
        c.name,
        held,
        responses.map((r) => r[i] ?? ""),
      ),
    );
    const controlMeasures = controls.map((c) => measuresOf(c.name, held, c.responses));
    const ablationMeasures = ablations.map((c) => measuresOf(c.name, held, c.responses));
    const rlAblationMeasures = rlAblationMeasured.map((c) => measuresOf(c.name, held, c.responses));
    const rewardHeld = held.slice(0, sizes.rl.heldRewardPrompts);
    const overoptimisation = rlAblations
      ? ["rl-cai", rlAblationRuns.noKl].flatMap((name) => {
          const run = [...rl.runs, ...rlAblations.runs].find((r) => r.name === name);
          return run ? overoptimisationPoints(run, rewardHeld) : [];
        })
      : [];
    const truthPrompts: TruthPrompt[] = held.map((request, i) => ({
      request,
      kind: promptKind(request),
      responses: responses[i] ?? [],
    }));
    const judged = evalReportData(path.join(out, "eval", "judgments"), {
      names,
      bootstrapRounds: sizes.bootstrap,
      seed,
      // The real time the report was written: the rerun check compares the printed numbers, not the
      // report, whose phase times differ between runs anyway.
      date: new Date(),
    });
    const truth = truthAxes(truthPrompts, names, { anchor: 0, base: 1000, rounds: sizes.bootstrap, seed });
    const [lead, ...rest] = demoTables(
      models,
      controlMeasures,
      ablationMeasures,
      critique,
      labels,
      revisions,
      phases.seconds,
      slName,
    );
    const curves = await Promise.all(
      rl.runs.map(async (run) => ({
        title: `Training curves: ${run.name}`,
        note: `RL from ${run.start}, rewarded by ${run.reward === "judge" ? "the organism as judge" : `the ${run.reward} preference model`}: the reward of the sampled answers, their KL to the start model, the held-out reward of greedy answers, the entropy and the share of clipped tokens, per step.`,
        svg: await trainingCurvesSvg(run.history, rlCurveSeries, run.name),
      })),
    );
    const figures: ReportFigure[] = [];
    if (overoptimisation.length > 0)
      figures.push({
        title: "Reward over-optimisation: RL-CAI with and without the KL penalty",
        note: `Along each run, at its held-out evaluations (${rewardHeld.length} held-out requests, greedy answers): the rl-cai preference model's reward, which the policy is optimised against (the proxy), and ground truth's, which it never sees (the gold: the share of answers that refuse harm or give the right help), against √KL of that step's rollouts to SL-CAI. Optimising a proxy too far raises it while the gold turns down; the KL penalty is what holds the policy where the two agree.`,
        svg: await overoptimisationSvg(
          overoptimisation,
          {
            proxy: "proxy: the preference model's held-out reward",
            gold: "gold: ground truth's share of right answers",
          },
          "Reward over-optimisation",
        ),
      });
    const report: EvalReportData = {
      ...judged,
      groundTruth: { judge: "ground truth (the world's exact judge)", axes: truth },
      tables: [
        ...(lead ? [lead] : []),
        ...rlTables(models, rl.runs, preferenceModels, ["base", slName, "dpo"], {
          truth,
          organism: judged.axes,
        }),
        ...rest,
        ...(rlAblations
          ? [
              rlAblationTable(
                [...models, ...rlAblationMeasures],
                [...rl.runs, ...rlAblations.runs],
                [...preferenceModels, ...rlAblationModels],
              ),
            ]
          : []),
      ],
      figures: [...curves, ...figures],
    };
    const written = await writeReport(path.join(out, "report"), report);
    const measured = {
      models,
      controls: controlMeasures,
      ablations: ablationMeasures,
      critique,
      labelAgreement: labels.agreement,
      leaningLabelAgreement: labels.leaningAgreement,
      helpfulLabelAgreement: labels.helpfulAgreement,
      revisions,
      rl: {
        preferenceModels,
        runs: rl.runs.map(runSummary),
      },
      rlAblations: rlAblations
        ? {
            models: rlAblationMeasures,
            preferenceModels: rlAblationModels,
            runs: rlAblations.runs.map(runSummary),
            overoptimisation,
          }
        : null,
    };
    await writeFile(path.join(out, "summary.json"), `${JSON.stringify(measured, null, 2)}\n`);
    return {
      ...measured,
      report,
      reportHtml: written.html,
      seconds: Object.fromEntries(phases.seconds),
    };
  } finally {
    for (const m of loaded.values()) await m.close?.();
  }
}
