import { CaiError } from "../../errors/cai-error.js";

/**
 * The output directory holds a phase an older cai demo stored in a shape this one no longer reads (so
 * resuming it would mix two versions of the loop): the demo stops before any work and asks for --restart.
 */
export class DemoOutdatedRunError extends CaiError {
  override readonly name = "DemoOutdatedRunError";
}
