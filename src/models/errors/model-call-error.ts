// Thrown when a backend answers a call with an error that retrying will not fix (or retries ran out).
import { CaiError } from "../../errors/cai-error.js";

/** A failed model call: the backend's HTTP status (when there was one) and its message. */
export class ModelCallError extends CaiError {
  override readonly name = "ModelCallError";
  constructor(
    readonly provider: string,
    message: string,
    readonly status?: number,
    options?: ErrorOptions,
  ) {
    super(`${provider}: ${message}`, options);
  }
  static override isInstance(value: unknown): value is ModelCallError {
    return CaiError.isInstance(value) && value.name === "ModelCallError";
  }
}
