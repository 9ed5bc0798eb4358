// Thrown when a model spec string (e.g. `llama:model.gguf`, `openai:gpt-4o-mini`) cannot be understood.
import { CaiError } from "../../errors/cai-error.js";

/** A model spec string that cai cannot parse or resolve. */
export class ModelSpecError extends CaiError {
  override readonly name = "ModelSpecError";
  /**
   * `showSyntax` (default true) ends the message with the spec forms cai reads; an error about one
   * `?key=value` option leaves them out, as the form was right.
   */
  constructor(
    readonly spec: string,
    reason: string,
    { showSyntax = true }: { showSyntax?: boolean } = {},
  ) {
    super(
      `invalid model spec "${spec}": ${reason}${
        showSyntax
          ? ". Expected llama:FILE.gguf[+ADAPTER.gguf], llama:hf:REPO:QUANT, openai:MODEL or anthropic:MODEL (reward models: reward:DIR)"
          : ""
      }`,
    );
  }
  static override isInstance(value: unknown): value is ModelSpecError {
    return CaiError.isInstance(value) && value.name === "ModelSpecError";
  }
}
