// The demo's results as the lines `cai demo` prints: only measured numbers (no times, no paths), so two
// runs with the same seed print the same text.
import type { Share } from "../measure.js";
import type { DemoModelMeasures, DemoSummary } from "./run-demo.js";

const pct = (s: Share) => (Number.isNaN(s.rate) ? "  –  " : `${(100 * s.rate).toFixed(1).padStart(5)}%`);

function modelLine(m: DemoModelMeasures, width: number): string {
  const b = m.behaviour;
  return (
    `${m.name.padEnd(width)} harmful ${pct(b.harmfulCompliance)} (seen ${pct(m.seenHarmful)}, unseen ${pct(m.unseenHarmful)}, ` +
    `ethics-only ${pct(m.ethicsOnlyHarmful)})  helpful ${pct(b.helpfulCompliance)}  over-refusal ${pct(b.overRefusal)}  off-format ${pct(b.offFormat)}`
  );
}

/** The summary lines. */
export function demoSummaryLines(summary: DemoSummary): string[] {
  const width = Math.max(
    ...[
      ...summary.models,
      ...summary.controls,
      ...summary.ablations,
      ...(summary.rlAblations?.models ?? []),
    ].map((m) => m.name.length),
  );
  const elo = (axes: NonNullable<DemoSummary["report"]["groundTruth"]>["axes"]) =>
    (["helpfulness", "harmlessness"] as const).map(
      (axis) =>
        `  ${axis.padEnd(12)} ${axes[axis].ratings
          .map(
            (r) =>
              `${r.model} ${Number.isNaN(r.elo) ? "–" : r.elo.toFixed(0)} [${r.interval.map((x) => x.toFixed(0)).join(", ")}]`,
          )
          .join("  ")}`,
    );
  const truth = summary.report.groundTruth;
  const { rounds } = summary.revisions;
  const byRound = (of: (r: (typeof rounds)[number]) => Share) =>
    rounds.map((r) => pct(of(r)).trim()).join(" → ");
  return [
    "Ground truth on held-out requests (greedy answers):",
    ...summary.models.map((m) => `  ${modelLine(m, width)}`),
    "Controls:",
    ...summary.controls.map((m) => `  ${modelLine(m, width)}`),
    ...(summary.ablations.length > 0
      ? ["Ablations:", ...summary.ablations.map((m) => `  ${modelLine(m, width)}`)]
      : []),
    ...(summary.rlAblations
      ? [
          "RL ablations (final checkpoints):",
          ...summary.rlAblations.models.map((m) => `  ${modelLine(m, width)}`),
          ...summary.rlAblations.preferenceModels.map(
            (pm) =>
              `  ${pm.name} preference model, held-out accuracy (helpfulness / harmlessness): ${pm.heldAccuracy ? `${pct(pm.heldAccuracy.helpfulness).trim()} / ${pct(pm.heldAccuracy.harmlessness).trim()}` : "–"}`,
          ),
          `  over-optimisation (step: √KL, proxy, gold): ${[
            ...new Set(summary.rlAblations.overoptimisation.map((p) => p.run)),
          ]
            .map(
              (run) =>
                `${run} ${summary.rlAblations?.overoptimisation
                  .filter((p) => p.run === run)
                  .map(
                    (p) => `${p.step}: ${p.sqrtKl.toFixed(2)}, ${p.proxy.toFixed(2)}, ${p.gold.toFixed(2)}`,
                  )
                  .join("; ")}`,
            )
            .join(" | ")}`,
        ]
      : []),
    `Critique accuracy: ${pct(summary.critique.organism)} (ethics-only verbs ${pct(summary.critique.ethicsOnly)}; organism without ethics text ${pct(summary.critique.ablation)})`,
    `AI labels agreeing with ground truth: ${pct(summary.labelAgreement)} of ${summary.labelAgreement.n} red-team pairs ground truth decides ` +
      `(${pct(summary.leaningLabelAgreement)} of the ${summary.leaningLabelAgreement.n} whose label leans at least 55/45; ` +
      `on the helpfulness pairs, labelled by ground truth instead: ${pct(summary.helpfulLabelAgreement)} of ${summary.helpfulLabelAgreement.n})`,
    `What SL-CAI learns from, by ground truth (drafts, then after ${rounds
      .slice(1)
      .map((r) => r.round)
      .join(", ")} rounds): harmful requests still complied with ${byRound((r) => r.harmfulKept)}; ` +
      `look-alikes not helped ${byRound((r) => r.lookAlikesLost)}; ` +
      `helpfulness samples not helped ${pct(summary.revisions.helpfulnessSamplesLost).trim()}`,
    `Preference models, held-out accuracy by ground truth (helpfulness / harmlessness): ${summary.rl.preferenceModels
      .map(
        (pm) =>
          `${pm.name} ${pm.heldAccuracy ? `${pct(pm.heldAccuracy.helpfulness).trim()} / ${pct(pm.heldAccuracy.harmlessness).trim()}` : "–"}`,
      )
      .join(", ")}`,
    "Elo judged by the organism:",
    ...elo(summary.report.axes),
    ...(truth ? ["Elo judged by ground truth:", ...elo(truth.axes)] : []),
  ];
}
