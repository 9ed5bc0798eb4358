// Thrown when a caller asks a backend for something it cannot do (e.g. log-probabilities from Anthropic).
import { CaiError } from "../../errors/cai-error.js";

/** A capability the model's backend does not have; check `model.capabilities` first and fall back. */
export class UnsupportedCapabilityError extends CaiError {
  override readonly name = "UnsupportedCapabilityError";
  constructor(
    readonly provider: string,
    readonly capability: string,
    hint = "",
  ) {
    super(`${provider} cannot ${capability}${hint ? `: ${hint}` : ""}`);
  }
  static override isInstance(value: unknown): value is UnsupportedCapabilityError {
    return CaiError.isInstance(value) && value.name === "UnsupportedCapabilityError";
  }
}
