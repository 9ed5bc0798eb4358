import { CaiError } from "../../errors/cai-error.js";
import type { StageRunResult } from "../../runs/run-loop.js";

/**
 * A stage of the demo left records failed (for instance a prompt longer than the organism's context):
 * training on the rest would measure a different loop, so the demo stops and names the run directory.
 */
export class DemoRecordsFailedError extends CaiError {
  override readonly name = "DemoRecordsFailedError";

  /** The error for a stage's outcome, or undefined when no record failed. */
  static of(
    runDir: string,
    outcome: Pick<StageRunResult, "counts" | "failures">,
  ): DemoRecordsFailedError | undefined {
    const first = outcome.failures[0];
    if (!first) return undefined;
    return new DemoRecordsFailedError(
      `${outcome.counts.failed} of ${outcome.counts.total} prompts failed in ${runDir} (first: ${first.error})`,
    );
  }
}
