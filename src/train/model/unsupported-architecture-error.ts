// Thrown when the trainer is given a GGUF model whose architecture its transformer does not implement.
import { CaiError } from "../../errors/cai-error.js";

/** A GGUF model of an architecture the trainer cannot run (it knows llama, mistral and qwen2). */
export class UnsupportedArchitectureError extends CaiError {
  override readonly name = "UnsupportedArchitectureError";
  constructor(
    readonly path: string,
    readonly architecture: string,
    readonly supported: readonly string[],
    options?: ErrorOptions,
  ) {
    super(
      `cannot train ${path}: its architecture "${architecture}" is not supported by the trainer ` +
        `(supported: ${supported.join(", ")}); pick a model of a supported family`,
      options,
    );
  }
  static override isInstance(value: unknown): value is UnsupportedArchitectureError {
    return CaiError.isInstance(value) && value.name === "UnsupportedArchitectureError";
  }
}
