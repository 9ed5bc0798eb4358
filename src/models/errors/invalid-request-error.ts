// Thrown when a call's own arguments are wrong (fewer than two choices, a prompt longer than the context…).
import { CaiError } from "../../errors/cai-error.js";

/** A model call whose arguments cannot be served as given. */
export class InvalidRequestError extends CaiError {
  override readonly name = "InvalidRequestError";
  static override isInstance(value: unknown): value is InvalidRequestError {
    return CaiError.isInstance(value) && value.name === "InvalidRequestError";
  }
}
