import { CaiError } from "../../errors/cai-error.js";

/**
 * A stage of the demo left records failed (for instance a prompt longer than the organism's context):
 * training on the rest would measure a different loop, so the demo stops and names the run directory.
 */
export class DemoRecordsFailedError extends CaiError {
  override readonly name = "DemoRecordsFailedError";
}
