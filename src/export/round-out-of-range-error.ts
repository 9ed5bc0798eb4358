// Thrown when an export asks for the answers after a round the revision run never had (`--round 99` on a
// run of 4 rounds), rather than quietly exporting its last answers under that name.
import { CaiError } from "../errors/cai-error.js";

/** A round past the revision run's configured rounds. */
export class RoundOutOfRangeError extends CaiError {
  override readonly name = "RoundOutOfRangeError";

  constructor(
    readonly runDir: string,
    readonly round: number,
    readonly rounds: number,
  ) {
    super(
      `--round ${round}: the run in ${runDir} has ${rounds} critique → revision rounds, so --round takes 0 to ${rounds}`,
    );
  }

  static override isInstance(value: unknown): value is RoundOutOfRangeError {
    return CaiError.isInstance(value) && value.name === "RoundOutOfRangeError";
  }
}
