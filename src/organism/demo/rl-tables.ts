// The RL comparison's tables in the demo's report: each run's final checkpoint by ground truth beside
// the models it should beat or match, with both judges' Elo, and the preference models behind the runs.
import type { AxisReport, ReportTable } from "../../eval/report/report-data.js";
import type { EvalAxis } from "../../eval/rubrics.js";
import type { Share } from "../measure.js";
import type { PreferenceModelMeasures, RlRunResult } from "./rl-comparison.js";
import type { DemoModelMeasures } from "./run-demo.js";

const pct = (s: Share | undefined) =>
  s === undefined || Number.isNaN(s.rate) ? null : Math.round(1000 * s.rate) / 10;

type Axes = Readonly<Record<EvalAxis, AxisReport>> | undefined;

/** "1234 [1200, 1270]" of `name` on `axis`, or null when unrated. */
function elo(axes: Axes, axis: EvalAxis, name: string): string | null {
  const r = axes?.[axis].ratings.find((x) => x.model === name);
  if (!r || !Number.isFinite(r.elo)) return null;
  return `${Math.round(r.elo)} [${Math.round(r.interval[0])}, ${Math.round(r.interval[1])}]`;
}

/** A model's ground-truth rates (harmful, helpful, over-refusal, off-format, in %) and a KL, for a row. */
function behaviourCells(m: DemoModelMeasures | undefined, kl: number | undefined): Array<number | null> {
  return [
    pct(m?.behaviour.harmfulCompliance),
    pct(m?.behaviour.helpfulCompliance),
    pct(m?.behaviour.overRefusal),
    pct(m?.behaviour.offFormat),
    kl === undefined ? null : Math.round(100 * kl) / 100,
  ];
}

/** The final checkpoint's contestant name of each run. */
export function finalCheckpointName(run: Pick<RlRunResult, "name" | "checkpoints">): string {
  return `${run.name}@${run.checkpoints.at(-1)?.step ?? 0}`;
}

const reward: Readonly<Record<string, string>> = {
  "rlhf-helpful": "PM: crowdworker helpfulness labels",
  "rlhf-hh": "PM: crowdworker helpfulness + harmlessness labels",
  "rl-cai": "PM: crowdworker helpfulness + the organism's harmlessness labels",
  judge: "the organism as judge (d-RLAIF)",
};

/** The RL table and the preference-model table. */
export function rlTables(
  models: readonly DemoModelMeasures[],
  runs: readonly RlRunResult[],
  preferenceModels: readonly PreferenceModelMeasures[],
  comparators: readonly string[],
  judges: { readonly truth: Axes; readonly organism: Axes },
): ReportTable[] {
  const measures = (name: string) => models.find((m) => m.name === name);
  const row = (name: string, start: string, source: string, kl: number | null) => {
    const m = measures(name);
    return [
      name,
      start,
      source,
      ...behaviourCells(m, kl ?? undefined),
      elo(judges.truth, "harmlessness", name),
      elo(judges.truth, "helpfulness", name),
      elo(judges.organism, "harmlessness", name),
      elo(judges.organism, "helpfulness", name),
    ];
  };
  const n = models[0]?.behaviour;
  return [
    {
      title: "RL-CAI against RLHF (final checkpoints)",
      note: `Each RL run's last checkpoint, by ground truth on the held-out requests (${n?.harmfulCompliance.n ?? 0} harmful, ${n?.overRefusal.n ?? 0} look-alikes, ${n?.offFormat.n ?? 0} in all), beside the models it starts from or competes with; KL is the last step's mean per answer to the run's start (nats). Elo with 95% bootstrap intervals, by ground truth and by the organism as judge; every run's checkpoints are on both frontiers as a line.`,
      columns: [
        "model",
        "starts from",
        "reward",
        "harmful compliance %",
        "helpful compliance %",
        "over-refusal on look-alikes %",
        "off-format %",
        "KL",
        "harmlessness Elo (ground truth)",
        "helpfulness Elo (ground truth)",
        "harmlessness Elo (organism)",
        "helpfulness Elo (organism)",
      ],
      rows: [
        ...comparators.map((name) => row(name, "", "", null)),
        ...runs.map((run) =>
          row(
            finalCheckpointName(run),
            run.start,
            reward[run.reward] ?? run.reward,
            run.history.at(-1)?.metrics?.kl ?? null,
          ),
        ),
      ],
    },
    {
      title: "The preference models",
      note: "Every preference model learns from the same pairs (sampled from the base organism and from SL-CAI) and the same crowdworker helpfulness labels (ground truth with a share flipped); they differ in their harmlessness labels. Held-out accuracy: pairs of different answers the contestants gave to a held-out request, ranked as ground truth ranks them (helpfulness on harmless requests, harmlessness on harmful ones).",
      columns: [
        "preference model",
        "helpfulness labels",
        "harmlessness labels",
        "from",
        "labels wrong by ground truth %",
        "held-out accuracy, helpfulness %",
        "n",
        "held-out accuracy, harmlessness %",
        "n",
      ],
      rows: preferenceModels.map((pm) => {
        const labels = pm.helpfulnessLabels + pm.harmlessnessLabels;
        return [
          pm.name,
          pm.helpfulnessLabels,
          pm.harmlessnessLabels,
          pm.harmlessnessSource,
          labels === 0 ? null : Math.round((1000 * pm.wrongLabels) / labels) / 10,
          pct(pm.heldAccuracy?.helpfulness),
          pm.heldAccuracy?.helpfulness.n ?? null,
          pct(pm.heldAccuracy?.harmlessness),
          pm.heldAccuracy?.harmlessness.n ?? null,
        ];
      }),
    },
  ];
}

/** The RL ablations' rows: each ablation run beside the run it changes one thing of. */
const ablationRows: ReadonlyArray<{ readonly run: string; readonly change: string }> = [
  { run: "rl-cai", change: "— (soft labels, KL coefficient as every run)" },
  { run: "rl-cai-hard-labels", change: "preference model on hard labels (P(chosen) = 1)" },
  { run: "rl-cai-kl0", change: "KL coefficient 0" },
  { run: "d-rlaif", change: "— (judge: 1 principle, the harmlessness question)" },
  { run: "d-rlaif-2-principles", change: "judge: 4 draws of 2 principles (+ the helpfulness question)" },
];

/** The RL ablations' table (`cai demo --ablations`): final checkpoints by ground truth, KL, the PM's accuracy. */
export function rlAblationTable(
  models: readonly DemoModelMeasures[],
  runs: readonly RlRunResult[],
  preferenceModels: readonly PreferenceModelMeasures[],
): ReportTable {
  const rows = ablationRows.flatMap(({ run: name, change }) => {
    const run = runs.find((r) => r.name === name);
    if (!run) return [];
    const m = models.find((x) => x.name === finalCheckpointName(run));
    const pm = preferenceModels.find((p) => p.name === run.reward);
    const kl = run.history.at(-1)?.metrics?.kl;
    return [
      [
        finalCheckpointName(run),
        change,
        ...behaviourCells(m, kl),
        pct(pm?.heldAccuracy?.helpfulness),
        pct(pm?.heldAccuracy?.harmlessness),
      ],
    ];
  });
  return {
    title: "RL ablations (final checkpoints)",
    note: "Each ablation run from SL-CAI with the comparison's prompts and settings, one thing changed, beside the run it changes (by ground truth on the held-out requests). KL: the last step's mean per answer to SL-CAI (nats). The preference model's held-out accuracy is over the tournament's answers, as in the preference-model table.",
    columns: [
      "model",
      "what changes",
      "harmful compliance %",
      "helpful compliance %",
      "over-refusal on look-alikes %",
      "off-format %",
      "KL",
      "PM held-out accuracy, helpfulness %",
      "PM held-out accuracy, harmlessness %",
    ],
    rows,
  };
}
