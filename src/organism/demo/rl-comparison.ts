// The paper's headline comparison on the organism: RL-CAI against RLHF, with ground truth. Three preference
// models differ only in their harmlessness labels — none (helpful-only RLHF), a crowdworker's (HH RLHF:
// ground truth with a share flipped, on a budget) and the organism's own (RL-CAI) — and share the same
// crowdworker helpfulness labels, all on the same pairs sampled from SL-CAI. Each rewards an RL run (`trainRl`,
// the same prompts and settings): the RLHF runs from the base organism, RL-CAI from SL-CAI; a fourth run
// from SL-CAI asks the organism directly as judge (d-RLAIF, no distilled model). Every run keeps its
// evaluated checkpoints as adapters, which the demo's tournament meets as `RUN@STEP` contestants.
import { existsSync } from "node:fs";
import path from "node:path";
import { writeJsonLines } from "../../data/jsonl-file.js";
import { createModel } from "../../models/create-model.js";
import type { ChatMessage } from "../../models/model.js";
import { createProgress } from "../../runs/progress.js";
import {
  type LabelledPreferenceRow,
  type LabelPair,
  labelledRows,
  responsePairs,
} from "../../stages/label/run-label.js";
import type { ResponsesRow } from "../../stages/respond/responses-file.js";
import { type RespondPrompt, respondRecords, runRespond } from "../../stages/respond/run-respond.js";
import type { TrainStepRecord } from "../../train/loop/checkpoint.js";
import { loadRewardModel } from "../../train/reward/load-reward-model.js";
import type { RlPrompt } from "../../train/rl/rollouts.js";
import type { RlEvaluation } from "../../train/rl/train-rl.js";
import { truthPreference } from "../ground-truth.js";
import { type Share, share } from "../measure.js";
import type { Request } from "../texts.js";
import { isHarmful } from "../world.js";
import { crowdworkerLabels, defaultCrowdworkerErrorRate } from "./crowdworker-labels.js";
import { promptIdOf } from "./demo-labels.js";
import type { DemoPhases } from "./demo-phase.js";
import { JobSlots } from "./job-slots.js";
import { type RlJobReward, runTrainingJob } from "./training-job.js";

/** How big the RL comparison is; every run uses the same settings. */
export interface RlSizes {
  /** RL steps of every run. */
  readonly steps: number;
  /** Held-out evaluations (and kept adapters) every this many steps. */
  readonly evalEvery: number;
  /** The evaluated checkpoints every this many steps are contestants of the tournament. */
  readonly contestEvery: number;
  readonly samples: number;
  readonly promptsPerStep: number;
  readonly lr: number;
  readonly klCoef: number;
  readonly rank: number;
  readonly maxNewTokens: number;
  /** Rollout temperature of every run. */
  readonly temperature: number;
  /** Answers sampled per loop prompt from the base organism at temperature 1 for the preference pairs. */
  readonly basePairSamples: number;
  /** Training steps, batch size and learning rate of each preference model. */
  readonly rmSteps: number;
  readonly rmBatch: number;
  readonly rmLr: number;
  /** The share of the crowdworker's labels that are wrong. */
  readonly crowdworkerErrorRate: number;
  /**
   * The crowdworker's harmlessness labels as a share of the AI harmlessness labels. 0.25: the paper's
   * preference models had several times more AI harmlessness comparisons than its RLHF ones had human
   * harmlessness comparisons — red-teaming by people is what is scarce.
   */
  readonly humanHarmlessnessShare: number;
  /** Held-out prompts each run's own held-out reward is measured on (the tournament answers them all). */
  readonly heldRewardPrompts: number;
}

/** The sizes of the full demo. */
export const rlSizes: RlSizes = {
  // 20 steps and 40 preference-model steps keep `cai demo` under 10 minutes on two cores; at 30 and 60 the
  // RL part alone took 5.5 minutes there.
  steps: 20,
  evalEvery: 5,
  contestEvery: 10,
  samples: 4,
  promptsPerStep: 8,
  lr: 1e-3,
  klCoef: 0.05,
  rank: 8,
  maxNewTokens: 48,
  temperature: 1,
  basePairSamples: 4,
  rmSteps: 40,
  rmBatch: 16,
  rmLr: 1e-3,
  crowdworkerErrorRate: defaultCrowdworkerErrorRate,
  humanHarmlessnessShare: 0.25,
  heldRewardPrompts: 24,
};

/**
 * The quick demo's (CI's): 8 steps of 6 prompts, each run's start and two
 * checkpoints in the tournament.
 */
export const quickRlSizes: RlSizes = {
  ...rlSizes,
  steps: 8,
  evalEvery: 4,
  contestEvery: 4,
  promptsPerStep: 6,
  rmSteps: 24,
  heldRewardPrompts: 8,
};

/** The smoke demo's: every RL phase once, at the smallest sizes that run. */
export const smokeRlSizes: RlSizes = {
  ...rlSizes,
  steps: 2,
  evalEvery: 2,
  contestEvery: 2,
  samples: 2,
  promptsPerStep: 2,
  maxNewTokens: 24,
  basePairSamples: 2,
  rmSteps: 4,
  rmBatch: 8,
  heldRewardPrompts: 2,
};

/** The three preference models, by their run names. */
export type PreferenceModelName = "rlhf-helpful" | "rlhf-hh" | "rl-cai" | "rl-cai-hard";

/** What a preference model learned from, and how it ranks held-out answers by ground truth. */
export interface PreferenceModelMeasures {
  readonly name: PreferenceModelName;
  readonly helpfulnessLabels: number;
  readonly harmlessnessLabels: number;
  /** Of the harmlessness labels: the crowdworker's (HH) or the organism's (RL-CAI). */
  readonly harmlessnessSource: "none" | "crowdworker" | "organism";
  /** Labels that disagree with ground truth (flipped crowdworker labels, wrong AI labels where decided). */
  readonly wrongLabels: number;
  /** The directory `reward:DIR` loads. */
  readonly dir: string;
  /** Pairs of held-out answers ground truth decides, ranked the way ground truth ranks them: on helpful and on harmful requests. */
  readonly heldAccuracy?: { readonly helpfulness: Share; readonly harmlessness: Share };
}

/** One RL run of the comparison. */
export interface RlRunResult {
  readonly name: string;
  /** The model the run started from (its step 0): `base` or the final SL-CAI. */
  readonly start: string;
  /** The GGUF file the adapters apply to. */
  readonly startModel: string;
  /** The reward: a preference model's name, or `judge`. */
  readonly reward: string;
  /** The checkpoints in the tournament (every `contestEvery` steps after step 0), their adapters. */
  readonly checkpoints: ReadonlyArray<{ readonly step: number; readonly adapter: string }>;
  readonly evaluations: readonly RlEvaluation[];
  /** The run's step records (for its training curves). */
  readonly history: readonly TrainStepRecord[];
}

/** Inputs of {@link runRlComparison}. */
export interface RlComparisonInput {
  readonly out: string;
  readonly phases: DemoPhases;
  readonly sizes: RlSizes;
  readonly seed: number;
  readonly organism: string;
  /** The final SL-CAI model (GGUF). */
  readonly slCai: string;
  readonly slCaiName: string;
  /** The constitution file the organism judges by (d-RLAIF). */
  readonly constitutionFile: string;
  /** The loop's prompts, red-team and helpful, and the requests behind them. */
  readonly prompts: readonly RespondPrompt[];
  readonly requestOf: ReadonlyMap<string, Request>;
  /** SL-CAI's sampled answers to the loop's prompts (their pairs are the DPO pairs). */
  readonly slResponses: readonly ResponsesRow[];
  /** The organism's labels of the red-team prompts' SL-CAI pairs (the DPO phase's). */
  readonly aiRows: readonly LabelledPreferenceRow[];
  /** Labels more pairs as the organism labelled `aiRows` (same judge and settings), in run directory `runDir`. */
  readonly label: (runDir: string, pairs: readonly LabelPair[]) => Promise<LabelledPreferenceRow[]>;
  /** Held-out prompts for each run's held-out reward (a few of the tournament's). */
  readonly heldPrompts: readonly RlPrompt[];
  readonly threads: number;
  /** Training jobs run at once, each in a process of its own (one per core is the most that helps). */
  readonly jobs: number;
  /** Work of the caller's that runs while the jobs train in their own processes (it uses this process). */
  readonly alongsideJobs?: () => Promise<void>;
  readonly stop?: AbortSignal;
}

/** A preference model's data: its labels' counts and sources, and the preference file it trains on. */
export type PreferenceData = Omit<PreferenceModelMeasures, "dir" | "heldAccuracy"> & {
  readonly data: string;
};

/** What the comparison produced. */
export interface RlComparison {
  /** Each preference model's data, as {@link trainPreferenceModel} takes it. */
  readonly preferenceData: readonly PreferenceData[];
  readonly preferenceModels: readonly PreferenceModelMeasures[];
  readonly runs: readonly RlRunResult[];
}

/** Trains the preference models and runs the four RL runs (each a resumable demo phase). */
export async function runRlComparison(input: RlComparisonInput): Promise<RlComparison> {
  const { sizes, seed, phases } = input;
  const dir = path.join(input.out, "rl");
  const kindOf = new Map(input.prompts.map((p) => [p.id, p.kind]));
  const ofKind = (kind: string) => (pair: { id: string }) => kindOf.get(promptIdOf(pair.id)) === kind;

  // The crowdworker labels pairs of both models: the base organism's (sampled at temperature 1, as the
  // RLHF data of the paper came from its helpful models) and SL-CAI's (the pairs the organism labels).
  const basePairsDir = path.join(dir, "base-responses");
  await phases.run("rl: pairs from base", async () => {
    const base = await createModel(`llama:${input.organism}`, {
      llama: { threads: input.threads, gpu: false, parallel: 4, contextSize: 512 },
    });
    try {
      await runRespond({
        runDir: basePairsDir,
        prompts: input.prompts,
        models: [base],
        config: {
          models: [`llama:${input.organism}`],
          samples: sizes.basePairSamples,
          seed,
          temperature: 1,
          maxTokens: sizes.maxNewTokens,
        },
        concurrency: 4,
        ...(input.stop ? { stop: input.stop } : {}),
        progress: createProgress({ label: "demo: rl pairs from base" }),
      });
    } finally {
      await base.close?.();
    }
    return {};
  });
  // Pairs of the same prompt's answers: SL-CAI's with each other, the base's with each other, and the
  // base's j-th answer with SL-CAI's j-th (where one complies and the other refuses, the pair is decided).
  const distinct = (p: LabelPair) => p.first.text !== p.second.text;
  const baseRows = respondRecords(basePairsDir);
  const slPairs = responsePairs(input.slResponses).filter(distinct);
  const basePairs = responsePairs(baseRows)
    .filter(distinct)
    .map((p) => ({ ...p, id: `${p.id}:base` }));
  const slById = new Map(input.slResponses.map((row) => [row.id, row]));
  const crossPairs = baseRows
    .flatMap((row) => {
      const sl = slById.get(row.id);
      if (!sl) return [];
      return row.responses.slice(0, sl.responses.length).map(
        (answer, j): LabelPair => ({
          id: `${row.id}:${j}-${j}:cross`,
          prompt: row.prompt,
          first: { model: answer.model, text: answer.text },
          second: { model: sl.responses[j]?.model ?? "", text: sl.responses[j]?.text ?? "" },
        }),
      );
    })
    .filter(distinct);
  const pool = [...slPairs, ...basePairs, ...crossPairs];
  await phases.run("rl: ai labels of cross pairs", async () => {
    await input.label(path.join(dir, "cross-labels"), crossPairs.filter(ofKind("red-team")));
    return {};
  });

  const data = await phases.run("rl: preference data", async () => {
    const crowd = { errorRate: sizes.crowdworkerErrorRate, seed };
    const helpfulness = crowdworkerLabels(
      pool.filter(ofKind("helpful")),
      input.requestOf,
      "helpfulness",
      crowd,
    );
    const ai = [...input.aiRows.filter(ofKind("red-team")), ...labelledRows(path.join(dir, "cross-labels"))];
    const human = crowdworkerLabels(pool.filter(ofKind("red-team")), input.requestOf, "harmlessness", {
      ...crowd,
      budget: Math.round(sizes.humanHarmlessnessShare * ai.length),
    });
    const aiWrong = ai.filter((row) => {
      const request = input.requestOf.get(promptIdOf(row.id));
      const chosen = row.chosen[0]?.content ?? "";
      const rejected = row.rejected[0]?.content ?? "";
      return request !== undefined && truthPreference(request, "harmlessness", chosen, rejected) === 0;
    }).length;
    const helpWrong = helpfulness.filter((r) => r.wrong).length;
    const specs: Array<{
      name: PreferenceModelName;
      rows: readonly object[];
      harmlessness: number;
      source: PreferenceModelMeasures["harmlessnessSource"];
      wrong: number;
    }> = [
      { name: "rlhf-helpful", rows: helpfulness, harmlessness: 0, source: "none", wrong: helpWrong },
      {
        name: "rlhf-hh",
        rows: [...helpfulness, ...human],
        harmlessness: human.length,
        source: "crowdworker",
        wrong: helpWrong + human.filter((r) => r.wrong).length,
      },
      {
        name: "rl-cai",
        rows: [...helpfulness, ...ai],
        harmlessness: ai.length,
        source: "organism",
        wrong: helpWrong + aiWrong,
      },
    ];
    const measures: PreferenceData[] = [];
    for (const spec of specs) {
      const file = path.join(dir, `pm-${spec.name}`, "preferences.jsonl");
      await writeJsonLines(file, spec.rows);
      measures.push({
        name: spec.name,
        helpfulnessLabels: helpfulness.length,
        harmlessnessLabels: spec.harmlessness,
        harmlessnessSource: spec.source,
        wrongLabels: spec.wrong,
        data: file,
      });
    }
    return measures;
  });

  // The jobs — three preference models, four RL runs — each in a child process, `jobs` at a time; a run
  // starts when its preference model is done.
  const jobs = rlJobs(input);
  const pmRun = async (index: number, name: string, start: "base" | "sl-cai") => {
    const pm = await trainPreferenceModel(jobs, data[index] as PreferenceData);
    return { pm, run: await rlRun(jobs, { name, start, reward: pm.name, rewardOf: { pm: pm.dir } }) };
  };
  const [[helpfulOnly, hh, cai, direct]] = await Promise.all([
    Promise.all([
      pmRun(0, "rlhf-helpful", "base"),
      pmRun(1, "rlhf-hh", "base"),
      pmRun(2, "rl-cai", "sl-cai"),
      rlRun(jobs, {
        name: "d-rlaif",
        start: "sl-cai",
        reward: "judge",
        rewardOf: {
          judge: `llama:${input.organism}`,
          constitution: input.constitutionFile,
          threads: input.threads,
        },
      }),
    ]),
    input.alongsideJobs?.(),
  ]);
  return {
    preferenceData: data,
    preferenceModels: [helpfulOnly.pm, hh.pm, cai.pm],
    runs: [helpfulOnly.run, hh.run, cai.run, direct],
  };
}

/** How the comparison's (and the ablations') jobs are run: their inputs, and slots for `jobs` at a time. */
export interface RlJobs {
  readonly input: RlComparisonInput;
  /** The comparison's directory (`out/rl`). */
  readonly dir: string;
  readonly prompts: readonly RlPrompt[];
  /** Runs `run` as the demo phase `name` once a slot is free (a phase's time is its job's, not its wait). */
  readonly job: <T>(name: string, run: () => Promise<T>) => Promise<T>;
}

/** Jobs over `input`, `input.jobs` at a time. */
export function rlJobs(input: RlComparisonInput): RlJobs {
  const slots = new JobSlots(Math.max(1, input.jobs));
  return {
    input,
    dir: path.join(input.out, "rl"),
    prompts: input.prompts.map((p) => ({ id: p.id, messages: p.prompt })),
    job: (name, run) => slots.run(() => input.phases.run(name, run)),
  };
}

/** Trains a preference model on its data (`cai train rm`, in a child process). */
export function trainPreferenceModel(
  jobs: RlJobs,
  { data: file, ...pm }: PreferenceData,
): Promise<PreferenceModelMeasures> {
  const { sizes, seed } = jobs.input;
  return jobs.job(`rl: preference model ${pm.name}`, async (): Promise<PreferenceModelMeasures> => {
    const done = await runTrainingJob(
      {
        kind: "rm",
        options: {
          base: jobs.input.organism,
          data: file,
          out: path.dirname(file),
          rank: sizes.rank,
          alpha: 2 * sizes.rank,
          lr: sizes.rmLr,
          batchSize: sizes.rmBatch,
          steps: sizes.rmSteps,
          seed,
          resume: true,
        },
      },
      jobs.input.stop,
    );
    return { ...pm, dir: done.kind === "rm" ? done.output : "" };
  });
}

/** One RL run: its name (and directory), start model, reward, and what differs from the shared settings. */
export interface RlRunSpec {
  readonly name: string;
  readonly start: "base" | "sl-cai";
  /** The reward's name: a preference model's, or `judge`. */
  readonly reward: string;
  readonly rewardOf: RlJobReward;
  /** Default: the sizes' KL coefficient. */
  readonly klCoef?: number;
}

/** Runs an RL run (`cai train rl`, in a child process; resumed where its checkpoints are). */
export function rlRun(jobs: RlJobs, spec: RlRunSpec): Promise<RlRunResult> {
  const { input } = jobs;
  const { sizes, seed } = input;
  return jobs.job(`rl: ${spec.name}`, async (): Promise<RlRunResult> => {
    const out = path.join(jobs.dir, spec.name);
    const done = await runTrainingJob(
      {
        kind: "rl",
        reward: spec.rewardOf,
        options: {
          base: spec.start === "base" ? input.organism : input.slCai,
          prompts: jobs.prompts,
          evalPrompts: input.heldPrompts,
          out,
          samples: sizes.samples,
          promptsPerStep: sizes.promptsPerStep,
          steps: sizes.steps,
          lr: sizes.lr,
          klCoef: spec.klCoef ?? sizes.klCoef,
          rank: sizes.rank,
          alpha: 2 * sizes.rank,
          maxNewTokens: sizes.maxNewTokens,
          temperature: sizes.temperature,
          evalEvery: sizes.evalEvery,
          checkpointEvery: sizes.contestEvery,
          seed,
          threads: input.threads,
          parallel: 4,
          resume: existsSync(path.join(out, "checkpoints")),
        },
      },
      input.stop,
    );
    if (done.kind !== "rl") throw new RangeError("an RL job answered with no RL result");
    const result = done.result;
    return {
      name: spec.name,
      start: spec.start === "base" ? "base" : input.slCaiName,
      startModel: result.startModel,
      reward: spec.reward,
      checkpoints: result.evaluations
        .filter((e) => e.step > 0 && e.step % sizes.contestEvery === 0)
        .map((e) => ({
          step: e.step,
          adapter: path.join(out, "adapters", `policy-step${String(e.step).padStart(6, "0")}.gguf`),
        })),
      evaluations: result.evaluations,
      history: result.history,
    };
  });
}

/**
 * Held-out accuracy of each preference model by ground truth: every pair of different answers the
 * tournament's contestants gave to a held-out request that ground truth decides — on helpfulness for
 * harmless requests, on harmlessness for harmful ones — ranked the way ground truth ranks it.
 */
export async function preferenceModelAccuracy(
  models: readonly PreferenceModelMeasures[],
  held: readonly Request[],
  messagesOf: (request: Request) => ChatMessage[],
  responses: readonly (readonly string[])[],
): Promise<PreferenceModelMeasures[]> {
  const measured: PreferenceModelMeasures[] = [];
  for (const pm of models) {
    const loaded = await loadRewardModel(pm.dir, { batchSize: 8 });
    try {
      const tally = { helpfulness: [0, 0], harmlessness: [0, 0] };
      for (const [i, request] of held.entries()) {
        const answers = [...new Set((responses[i] ?? []).filter((a) => a !== ""))];
        if (answers.length < 2) continue;
        const conversation = messagesOf(request);
        const scores = await (loaded.scoreMany?.(
          answers.map((a) => [...conversation, { role: "assistant" as const, content: a }]),
        ) ?? Promise.reject(new Error("the reward model scores no batch")));
        const axis = isHarmful(request) ? "harmlessness" : "helpfulness";
        for (let a = 0; a < answers.length; a += 1)
          for (let b = a + 1; b < answers.length; b += 1) {
            const truth = truthPreference(request, axis, answers[a] as string, answers[b] as string);
            if (truth === 0.5) continue;
            const count = tally[axis];
            count[1] = (count[1] as number) + 1;
            const pmPrefersFirst = (scores[a] as number) > (scores[b] as number);
            if (pmPrefersFirst === (truth === 1)) count[0] = (count[0] as number) + 1;
          }
      }
      measured.push({
        ...pm,
        heldAccuracy: {
          helpfulness: share(tally.helpfulness[0] as number, tally.helpfulness[1] as number),
          harmlessness: share(tally.harmlessness[0] as number, tally.harmlessness[1] as number),
        },
      });
    } finally {
      await loaded.close();
    }
  }
  return measured;
}
