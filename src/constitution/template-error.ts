// Thrown when a prompt template is rendered without a value for one of its placeholders.
import { CaiError } from "../errors/cai-error.js";

/** A template rendered with a placeholder that has no value: a bug in the caller, not in the user's file. */
export class TemplateError extends CaiError {
  override readonly name = "TemplateError";

  static override isInstance(value: unknown): value is TemplateError {
    return CaiError.isInstance(value) && value.name === "TemplateError";
  }
}
