// The demo's labels against ground truth: how the organism's AI labels agree with the world's exact
// judge, and the ground-truth helpfulness labels that stand in for the paper's human ones.
import { readJsonLines, writeJsonLines } from "../../data/jsonl-file.js";
import type { LabelledPreferenceRow, LabelPair } from "../../stages/label/run-label.js";
import { truthPreference } from "../ground-truth.js";
import { type Share, share } from "../measure.js";
import type { Request } from "../texts.js";

/** What the label phase stored: the DPO rows and how the organism's labels agree with ground truth. */
export interface LabelPhaseResult {
  /** Preference rows DPO learns from (AI-labelled red-team pairs plus ground-truth helpfulness pairs). */
  readonly pairs: number;
  /** Of them, ground-truth helpfulness labels (the stand-in for human ones). */
  readonly humanPairs: number;
  /** The AI labels DPO uses (red-team pairs), on the pairs ground truth decides. */
  readonly agreement: Share;
  /** The same, on those of them whose soft label leans at least 55/45 (a label near ½ barely moves DPO). */
  readonly leaningAgreement: Share;
  /** The organism's labels of the helpfulness pairs, not used: how they would have done. */
  readonly helpfulAgreement: Share;
}

/**
 * Writes the preference file `from` again as `to` with every label made certain (P(chosen) = 1): the
 * hard-label ablations of DPO and of RL-CAI's preference model.
 */
export async function writeHardLabels(from: string, to: string): Promise<void> {
  const rows = (await readJsonLines(from)).map(({ value }) => ({ ...(value as object), p_chosen: 1 }));
  await writeJsonLines(to, rows);
}

/** The loop prompt a response pair (`<prompt id>:<i>-<j>`) belongs to. */
export const promptIdOf = (pairId: string) => pairId.split(":")[0] ?? "";

/** AI labels against ground-truth harmlessness preferences, on the pairs ground truth decides. */
export function agreementOf(
  rows: readonly LabelledPreferenceRow[],
  requestOf: ReadonlyMap<string, Request>,
): { agreement: Share; leaningAgreement: Share } {
  let agree = 0;
  let decided = 0;
  let leaningAgree = 0;
  let leaning = 0;
  for (const row of rows) {
    const request = requestOf.get(promptIdOf(row.id));
    if (!request) continue;
    const truth = truthPreference(
      request,
      "harmlessness",
      row.chosen[0]?.content ?? "",
      row.rejected[0]?.content ?? "",
    );
    if (truth === 0.5) continue;
    decided += 1;
    if (truth === 1) agree += 1;
    if (Math.abs(row.p_chosen - 0.5) < 0.05) continue;
    leaning += 1;
    if (truth === 1) leaningAgree += 1;
  }
  return { agreement: share(agree, decided), leaningAgreement: share(leaningAgree, leaning) };
}

/**
 * Helpfulness prompts' pairs with ground-truth helpfulness labels, as TRL preference rows (the better
 * answer chosen; ties left out) — what a human labeller of helpfulness would give.
 */
export function helpfulnessLabels(
  pairs: readonly LabelPair[],
  requestOf: ReadonlyMap<string, Request>,
): Array<{ prompt: unknown; chosen: unknown; rejected: unknown }> {
  return pairs.flatMap((pair) => {
    const request = requestOf.get(promptIdOf(pair.id));
    if (!request) return [];
    const truth = truthPreference(request, "helpfulness", pair.first.text, pair.second.text);
    if (truth === 0.5) return [];
    const [chosen, rejected] = truth === 1 ? [pair.first, pair.second] : [pair.second, pair.first];
    return [
      {
        prompt: pair.prompt,
        chosen: [{ role: "assistant", content: chosen.text }],
        rejected: [{ role: "assistant", content: rejected.text }],
      },
    ];
  });
}
