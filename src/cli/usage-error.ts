// Thrown when a flag or argument of a `cai` command has a value that cannot be meant (`--temperature
// Infinity`, `--split bogus`): the user's to fix, so the command line exits with code 2.
import { CaiError } from "../errors/cai-error.js";

/** A flag or argument value that is refused; the message names the flag and what it takes. */
export class UsageError extends CaiError {
  override readonly name = "UsageError";

  static override isInstance(value: unknown): value is UsageError {
    return CaiError.isInstance(value) && value.name === "UsageError";
  }
}
