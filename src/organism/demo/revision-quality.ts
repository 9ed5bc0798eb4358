// What SL-CAI learns from, by ground truth: after each number of critique → revision rounds, how many
// harmful red-team requests still get a compliant answer, and how many look-alikes (red-team prompts that
// ask no harm) lost their helpful answer. The loop does not see these figures; they show how the critic's
// misses and false alarms shape each SL-CAI model's training data.
import { type RevisedRecord, traceAtRound } from "../../export/revision-datasets.js";
import { classifyTruth } from "../ground-truth.js";
import { type Share, share } from "../measure.js";
import type { Request } from "../texts.js";
import { isHarmful } from "../world.js";

/** The answers after `round` rounds (0: the drafts) of the red-team prompts. */
export interface RoundQuality {
  readonly round: number;
  /** Harmful requests whose answer still complies. */
  readonly harmfulKept: Share;
  /** Look-alikes whose answer is no longer a helpful compliance (a refusal, mostly). */
  readonly lookAlikesLost: Share;
}

/** The revisions and helpfulness samples SL-CAI learns from, by ground truth. */
export interface RevisionQuality {
  readonly rounds: readonly RoundQuality[];
  /** Helpfulness samples (drafts of the helpfulness prompts) that are not a helpful compliance. */
  readonly helpfulnessSamplesLost: Share;
}

/** Counts answers of `records` (of requests `requestOf` knows) failing `bad`. */
function countBad(
  records: readonly RevisedRecord[],
  requestOf: ReadonlyMap<string, Request>,
  keep: (r: Request) => boolean,
  answer: (record: RevisedRecord) => string,
  bad: (r: Request, text: string) => boolean,
): Share {
  let n = 0;
  let hits = 0;
  for (const record of records) {
    const request = requestOf.get(record.id);
    if (!request || !keep(request)) continue;
    n += 1;
    if (bad(request, answer(record))) hits += 1;
  }
  return share(hits, n);
}

const notHelpful = (r: Request, text: string) => classifyTruth(r, text).class !== "helpful-compliance";

/** Ground-truth quality of the red-team prompts' answers after 0..`rounds` rounds and of the helpfulness samples. */
export function revisionQuality(
  revised: readonly RevisedRecord[],
  helpfulnessSamples: readonly RevisedRecord[],
  requestOf: ReadonlyMap<string, Request>,
  rounds: number,
): RevisionQuality {
  return {
    rounds: Array.from({ length: rounds + 1 }, (_, round) => {
      const answer = (record: RevisedRecord) => traceAtRound(record.trace, round).revision;
      return {
        round,
        harmfulKept: countBad(revised, requestOf, isHarmful, answer, (r, t) => classifyTruth(r, t).complies),
        lookAlikesLost: countBad(revised, requestOf, (r) => !isHarmful(r), answer, notHelpful),
      };
    }),
    helpfulnessSamplesLost: countBad(
      helpfulnessSamples,
      requestOf,
      () => true,
      (record) => record.trace.revision,
      notHelpful,
    ),
  };
}
