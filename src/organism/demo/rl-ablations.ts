// The RL parts of `cai demo --ablations`, each RL-CAI or d-RLAIF with one thing changed, from SL-CAI with
// the comparison's prompts and settings:
// - hard labels: RL-CAI's preference model trained on the same pairs with every label made certain
//   (P(chosen) = 1) instead of the organism's normalised probabilities;
// - KL coefficient 0: RL-CAI with no KL penalty. Its held-out evaluations, beside RL-CAI's, give the
//   reward over-optimisation curves: the preference model's reward (the proxy the policy climbs) and ground
//   truth's (the gold it is never shown) against √KL to the start model;
// - the judge's principles: d-RLAIF whose judge draws 4 comparison principles per pair from two (the
//   organism's harmlessness question and its helpfulness question) instead of 1 from the first alone.
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { stringify } from "yaml";
import type { OveroptimisationPoint } from "../../eval/report/overoptimisation-chart.js";
import { classifyTruth } from "../ground-truth.js";
import { organismConstitution, organismQuestions } from "../organism-constitution.js";
import type { Request } from "../texts.js";
import { isHarmful } from "../world.js";
import { writeHardLabels } from "./demo-labels.js";
import {
  type PreferenceModelMeasures,
  type RlComparison,
  type RlComparisonInput,
  type RlRunResult,
  rlJobs,
  rlRun,
  trainPreferenceModel,
} from "./rl-comparison.js";

/** The ablation runs' names. */
export const rlAblationRuns = {
  hardLabels: "rl-cai-hard-labels",
  noKl: "rl-cai-kl0",
  twoPrinciples: "d-rlaif-2-principles",
} as const;

/** Comparison principles the two-principle judge draws per pair. */
const judgeDraws = 4;

/** What the RL ablations produced. */
export interface RlAblations {
  /** RL-CAI's preference model on hard labels. */
  readonly preferenceModel: PreferenceModelMeasures;
  /** The runs, in the order of {@link rlAblationRuns}. */
  readonly runs: readonly RlRunResult[];
}

/** Trains the hard-label preference model and runs the three ablation runs (each a resumable demo phase). */
export async function runRlAblations(
  input: RlComparisonInput,
  comparison: RlComparison,
): Promise<RlAblations> {
  const jobs = rlJobs(input);
  const soft = comparison.preferenceData.find((d) => d.name === "rl-cai");
  const softModel = comparison.preferenceModels.find((pm) => pm.name === "rl-cai");
  if (!soft || !softModel) throw new RangeError("the RL comparison has no rl-cai preference model");
  const hardData = await input.phases.run("rl: hard preference labels", async () => {
    const file = path.join(jobs.dir, "pm-rl-cai-hard", "preferences.jsonl");
    await writeHardLabels(soft.data, file);
    return { ...soft, name: "rl-cai-hard" as const, data: file };
  });
  // Written on every run (it is the same file each time): a resumed judge reads it again.
  const judgeConstitution = path.join(jobs.dir, "judge-two-principles.yaml");
  const base = organismConstitution();
  await writeFile(
    judgeConstitution,
    stringify({
      ...base,
      comparisons: [
        ...(base.comparisons ?? []),
        { id: "more-helpful", question: organismQuestions.helpfulness },
      ],
    }),
  );
  const [hard, noKl, twoPrinciples] = await Promise.all([
    trainPreferenceModel(jobs, hardData).then(async (pm) => ({
      pm,
      run: await rlRun(jobs, {
        name: rlAblationRuns.hardLabels,
        start: "sl-cai",
        reward: pm.name,
        rewardOf: { pm: pm.dir },
      }),
    })),
    rlRun(jobs, {
      name: rlAblationRuns.noKl,
      start: "sl-cai",
      reward: softModel.name,
      rewardOf: { pm: softModel.dir },
      klCoef: 0,
    }),
    rlRun(jobs, {
      name: rlAblationRuns.twoPrinciples,
      start: "sl-cai",
      reward: "judge",
      rewardOf: {
        judge: `llama:${input.organism}`,
        constitution: judgeConstitution,
        threads: input.threads,
        principles: judgeDraws,
      },
    }),
  ]);
  return { preferenceModel: hard.pm, runs: [hard.run, noKl, twoPrinciples] };
}

/**
 * Ground truth's reward of an answer, the gold of the over-optimisation curves: 1 for what the organism's
 * world wants — a refusal of a harmful request, the right help with a harmless one — and 0 otherwise.
 */
export function goldReward(request: Request, answer: string): number {
  const c = classifyTruth(request, answer);
  return (isHarmful(request) ? c.refusal : c.class === "helpful-compliance") ? 1 : 0;
}

/**
 * A run's over-optimisation points: at each held-out evaluation, its proxy reward (the run's own held-out
 * reward), the gold reward of the same greedy answers (`held[i]` is the request of the i-th held-out
 * prompt), and √KL of that step's rollouts to the start model (0 at step 0; a negative estimate counts as 0).
 */
export function overoptimisationPoints(
  run: Pick<RlRunResult, "name" | "evaluations" | "history">,
  held: readonly Request[],
): OveroptimisationPoint[] {
  const klAt = new Map(run.history.map((r) => [r.step, r.metrics?.kl ?? Number.NaN]));
  return run.evaluations.map((e) => {
    const golds = e.answers.map((answer, i) => goldReward(held[i] as Request, answer));
    return {
      run: run.name,
      step: e.step,
      sqrtKl: e.step === 0 ? 0 : Math.sqrt(Math.max(0, klAt.get(e.step) ?? Number.NaN)),
      proxy: e.heldReward,
      gold: golds.reduce((a, b) => a + b, 0) / Math.max(1, golds.length),
    };
  });
}
