// Thrown when a run directory is reused with a different config or constitution than it was started with.
import { CaiError } from "../errors/cai-error.js";

/** A rerun whose config or constitution differs from the run's; resuming would mix two experiments. */
export class RunChangedError extends CaiError {
  override readonly name = "RunChangedError";
  constructor(
    readonly runDir: string,
    readonly changed: string[],
  ) {
    super(
      `the run in ${runDir} was started with a different ${changed.join(" and ")}; rerun with the same settings to resume, or pass --restart to discard it and start a new run`,
    );
  }
  static override isInstance(value: unknown): value is RunChangedError {
    return CaiError.isInstance(value) && value.name === "RunChangedError";
  }
}
