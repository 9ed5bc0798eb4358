// Thrown when trained weights are exported over a GGUF base model they were not loaded from.
import { CaiError } from "../../errors/cai-error.js";

/** The base GGUF file given to the model export does not match the trained weights' shapes. */
export class BaseModelMismatchError extends CaiError {
  override readonly name = "BaseModelMismatchError";
  constructor(
    /** The base GGUF file. */
    readonly basePath: string,
    /** Every difference found, e.g. `blk.0.attn_q.weight: base [64, 64], trained [64, 32]`. */
    readonly differences: readonly string[],
    options?: ErrorOptions,
  ) {
    const listed = differences.slice(0, 5).join("; ");
    const more = differences.length > 5 ? `; and ${differences.length - 5} more` : "";
    super(
      `the trained weights do not fit the base model ${basePath} (${listed}${more}); export against the GGUF file the weights were loaded from`,
      options,
    );
  }
  static override isInstance(value: unknown): value is BaseModelMismatchError {
    return CaiError.isInstance(value) && value.name === "BaseModelMismatchError";
  }
}
