// Thrown when a model (or an adapter) cannot be loaded: missing file, wrong architecture, no memory.
import { CaiError } from "../../errors/cai-error.js";

/** A model or adapter that could not be loaded. */
export class ModelLoadError extends CaiError {
  override readonly name = "ModelLoadError";
  constructor(
    readonly path: string,
    reason: string,
    options?: ErrorOptions,
  ) {
    super(`cannot load ${path}: ${reason}`, options);
  }
  static override isInstance(value: unknown): value is ModelLoadError {
    return CaiError.isInstance(value) && value.name === "ModelLoadError";
  }
}
