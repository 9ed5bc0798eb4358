// Thrown when a model call takes longer than its time limit (after any retries).
import { CaiError } from "../../errors/cai-error.js";

/** A model call that ran past its time limit. */
export class ModelTimeoutError extends CaiError {
  override readonly name = "ModelTimeoutError";
  constructor(
    readonly provider: string,
    readonly timeoutMs: number | undefined,
    options?: ErrorOptions,
  ) {
    super(
      `${provider}: the call timed out${timeoutMs === undefined ? "" : ` after ${timeoutMs} ms`}; raise the timeout or check the server`,
      options,
    );
  }
  static override isInstance(value: unknown): value is ModelTimeoutError {
    return CaiError.isInstance(value) && value.name === "ModelTimeoutError";
  }
}
