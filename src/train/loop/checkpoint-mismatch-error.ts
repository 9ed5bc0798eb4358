// Thrown when a training run would resume from a checkpoint made with different settings (another base
// model, other data, another LoRA rank, …): continuing would silently mix two runs.
import { CaiError } from "../../errors/cai-error.js";

/** One setting whose value differs between the checkpoint and this run. */
export interface SettingDifference {
  readonly key: string;
  readonly checkpoint: unknown;
  readonly run: unknown;
}

/** A checkpoint whose recorded settings differ from the run's. */
export class CheckpointMismatchError extends CaiError {
  override readonly name = "CheckpointMismatchError";

  constructor(
    readonly dir: string,
    readonly differences: readonly SettingDifference[],
  ) {
    const list = differences
      .map((d) => `${d.key}: ${JSON.stringify(d.checkpoint)} there, ${JSON.stringify(d.run)} now`)
      .join("; ");
    super(
      `the checkpoint in ${dir} was made with other settings (${list}); rerun with the same settings to resume, or choose a new output directory`,
    );
  }

  static override isInstance(value: unknown): value is CheckpointMismatchError {
    return CaiError.isInstance(value) && value.name === "CheckpointMismatchError";
  }
}
