// Thrown when a model spec string (e.g. `llama:model.gguf`, `openai:gpt-4o-mini`) cannot be understood.
import { CaiError } from "../../errors/cai-error.js";

/** A model spec string that cai cannot parse or resolve. */
export class ModelSpecError extends CaiError {
  override readonly name = "ModelSpecError";
  constructor(
    readonly spec: string,
    reason: string,
  ) {
    super(
      `invalid model spec "${spec}": ${reason}. Expected llama:FILE.gguf[+ADAPTER.gguf], llama:hf:REPO:QUANT, openai:MODEL or anthropic:MODEL (reward models: reward:DIR)`,
    );
  }
  static override isInstance(value: unknown): value is ModelSpecError {
    return CaiError.isInstance(value) && value.name === "ModelSpecError";
  }
}
