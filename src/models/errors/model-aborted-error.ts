// Thrown when a model call is cancelled through its AbortSignal.
import { CaiError } from "../../errors/cai-error.js";

/** A model call cancelled by its caller. */
export class ModelAbortedError extends CaiError {
  override readonly name = "ModelAbortedError";
  constructor(provider: string, options?: ErrorOptions) {
    super(`${provider}: the call was aborted`, options);
  }
  static override isInstance(value: unknown): value is ModelAbortedError {
    return CaiError.isInstance(value) && value.name === "ModelAbortedError";
  }
}
