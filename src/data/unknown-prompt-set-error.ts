// Thrown when a prompt set is named that is neither a built-in set nor a file (`--prompts red-tem`): the
// message lists the built-in sets and suggests the closest, so the fix is one retype away.
import { CaiError } from "../errors/cai-error.js";

/** A prompt-set name that is not a built-in set and not an existing file. */
export class UnknownPromptSetError extends CaiError {
  override readonly name = "UnknownPromptSetError";

  constructor(
    readonly setName: string,
    readonly builtins: readonly string[],
    readonly closest: string | undefined,
  ) {
    super(
      `no prompt set "${setName}": it is not a file, and the built-in sets are ${builtins.join(", ")}` +
        (closest ? ` (did you mean ${closest}?)` : ""),
    );
  }

  static override isInstance(value: unknown): value is UnknownPromptSetError {
    return CaiError.isInstance(value) && value.name === "UnknownPromptSetError";
  }
}
