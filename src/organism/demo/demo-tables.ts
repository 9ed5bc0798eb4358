// The organism's tables in the demo's report: ground-truth behaviour of every model (the result, which the
// report leads with), the controls and ablations, the organism as critic and judge, what SL-CAI learns
// from, and the time of each phase.
import type { ReportTable } from "../../eval/report/report-data.js";
import type { Share } from "../measure.js";
import type { LabelPhaseResult } from "./demo-labels.js";
import type { RevisionQuality } from "./revision-quality.js";
import type { DemoModelMeasures, DemoSummary } from "./run-demo.js";

const pct = (s: Share) => (Number.isNaN(s.rate) ? null : Math.round(1000 * s.rate) / 10);

/**
 * What the ground-truth table counts, and how its rates differ from the rates table's, which classify the
 * same answers with the organism as judge and count over-refusal over every harmless request.
 */
function groundTruthNote(base: DemoModelMeasures["behaviour"] | undefined): string {
  const all = base?.offFormat.n ?? 0;
  const harmful = base?.harmfulCompliance.n ?? 0;
  const lookAlikes = base?.overRefusal.n ?? 0;
  return (
    `Greedy answers to ${all} held-out requests (${harmful} harmful, ${lookAlikes} look-alikes, ${all - harmful - lookAlikes} plain helpful ones), classified by the world's exact judge. ` +
    `The rates further down classify the same answers with the organism as judge: their over-refusal counts refusals of all ${all - harmful} harmless requests (look-alikes and plain ones), this table's only of the ${lookAlikes} look-alikes; their harmful compliance is over the same ${harmful} harmful requests.`
  );
}

/** The organism's tables: ground-truth behaviour of every model, the controls, the critic and judge, the times. */
export function demoTables(
  models: readonly DemoModelMeasures[],
  controls: readonly DemoModelMeasures[],
  ablations: readonly DemoModelMeasures[],
  critique: DemoSummary["critique"],
  labels: LabelPhaseResult,
  revisions: RevisionQuality,
  seconds: ReadonlyMap<string, number>,
  /** The final SL-CAI's name, which the controls are compared with. */
  slName: string,
): ReportTable[] {
  const baseHelpful = models[0]?.behaviour.helpfulCompliance.rate ?? Number.NaN;
  const row = (m: DemoModelMeasures) => [
    m.name,
    pct(m.behaviour.harmfulCompliance),
    pct(m.seenHarmful),
    pct(m.unseenHarmful),
    pct(m.ethicsOnlyHarmful),
    pct(m.behaviour.helpfulCompliance),
    Math.round((1000 * m.behaviour.helpfulCompliance.rate) / baseHelpful) / 10,
    pct(m.behaviour.overRefusal),
    pct(m.behaviour.offFormat),
  ];
  const columns = [
    "model",
    "harmful compliance %",
    "… seen in pretraining %",
    "… never seen %",
    "… ethics-only verbs %",
    "helpful compliance %",
    "% of base's",
    "over-refusal on look-alikes %",
    "off-format %",
  ];
  return [
    {
      title: "Ground truth on held-out requests",
      note: groundTruthNote(models[0]?.behaviour),
      // The result a reader of the demo wants first: what each model does, by the exact judge.
      lead: true,
      columns,
      rows: models.map(row),
    },
    {
      title: "Controls",
      note: "The ceiling trains on ground-truth revisions of the same drafts; the ablation runs the same loop on an organism pretrained without ethics text (same seed, same vocabulary, same critiques of critiqued verbs).",
      columns,
      rows: [...controls.map(row), ...models.filter((m) => m.name === slName).map(row)],
    },
    ...(ablations.length === 0
      ? []
      : [
          {
            title: "Ablations",
            note: "SL-CAI after 1–4 revision rounds (five principles, critiqued revisions, no few-shot examples), then SL-CAI after all rounds with one thing changed (the few-shot example after one round: more outgrow the context), and DPO on hard instead of soft AI labels.",
            columns,
            rows: [
              ...models.filter((m) => m.name.startsWith("sl-cai")).map(row),
              ...ablations.filter((m) => !m.name.startsWith("DPO")).map(row),
              ...models.filter((m) => m.name === "dpo").map((m) => row({ ...m, name: "DPO on soft labels" })),
              ...ablations.filter((m) => m.name.startsWith("DPO")).map(row),
            ],
          },
        ]),
    {
      title: "The organism as critic and judge",
      columns: ["measure", "%", "n"],
      rows: [
        ["critique accuracy on held-out harm-verb requests", pct(critique.organism), critique.organism.n],
        ["… on ethics-only verbs", pct(critique.ethicsOnly), critique.ethicsOnly.n],
        ["… of the organism without ethics text", pct(critique.ablation), critique.ablation.n],
        [
          "AI labels agreeing with ground truth (red-team DPO pairs it decides)",
          pct(labels.agreement),
          labels.agreement.n,
        ],
        ["… of them, labels leaning at least 55/45", pct(labels.leaningAgreement), labels.leaningAgreement.n],
        [
          "… on helpfulness pairs (not used: DPO has ground-truth helpfulness labels there)",
          pct(labels.helpfulAgreement),
          labels.helpfulAgreement.n,
        ],
      ],
    },
    {
      title: "What SL-CAI learns from, by ground truth",
      note: "The red-team prompts' answers after each number of critique → revision rounds (0: the drafts), which SL-CAI after that many rounds is trained on, with the helpfulness samples; the harmless red-team requests are the look-alikes. The loop never sees these figures: they show what the critic's misses and false alarms leave in the training data.",
      columns: [
        "answers",
        "harmful requests still complied with %",
        "n",
        "harmless requests not helped %",
        "n",
      ],
      rows: [
        ...revisions.rounds.map((r) => [
          r.round === 0 ? "drafts" : `after ${r.round} round${r.round > 1 ? "s" : ""}`,
          pct(r.harmfulKept),
          r.harmfulKept.n,
          pct(r.lookAlikesLost),
          r.lookAlikesLost.n,
        ]),
        [
          "helpfulness samples",
          null,
          null,
          pct(revisions.helpfulnessSamplesLost),
          revisions.helpfulnessSamplesLost.n,
        ],
      ],
    },
    {
      title: "Wall time of each phase",
      columns: ["phase", "seconds"],
      rows: [...seconds.entries()].map(([name, s]) => [name, s]),
    },
  ];
}
