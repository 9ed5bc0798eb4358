// Thrown when a GGUF model's hyper-parameters or tensors are missing or inconsistent for the trainer.
import { CaiError } from "../../errors/cai-error.js";

/** A GGUF model whose metadata or tensor shapes the trainer cannot use. */
export class ModelConfigError extends CaiError {
  override readonly name = "ModelConfigError";
  constructor(
    readonly path: string,
    reason: string,
    options?: ErrorOptions,
  ) {
    super(`cannot train ${path}: ${reason}`, options);
  }
  static override isInstance(value: unknown): value is ModelConfigError {
    return CaiError.isInstance(value) && value.name === "ModelConfigError";
  }
}
