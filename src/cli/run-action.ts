// How every CLI command ends: success, or one clear line on stderr and a non-zero exit — no stack
// trace unless CAI_DEBUG=1 asks for it.
import { InvalidArgumentError } from "commander";
import { CaiError } from "../errors/cai-error.js";
import { InputFileError } from "../errors/input-file-error.js";

/**
 * Wraps a command action so errors print as `cai: message`, exiting with code 2 for a malformed input
 * file (the user's to fix) and 1 for anything else.
 */
export function runAction<A extends unknown[]>(
  action: (...args: A) => Promise<void>,
): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      await action(...args);
    } catch (error) {
      process.exitCode = InputFileError.isInstance(error) ? 2 : 1;
      if (process.env.CAI_DEBUG) console.error(error);
      else if (CaiError.isInstance(error)) console.error(`cai: ${error.message}`);
      else
        console.error(
          `cai: unexpected error: ${error instanceof Error ? error.message : String(error)} (CAI_DEBUG=1 shows the stack)`,
        );
    }
  };
}

/** Parses a whole-number flag; commander reports a bad value as `option '--x <n>' argument … is invalid`. */
export function intFlag(name: string, min = Number.NEGATIVE_INFINITY): (value: string) => number {
  return (value: string) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min)
      throw new InvalidArgumentError(
        `${name} must be a whole number${min > Number.NEGATIVE_INFINITY ? ` ≥ ${min}` : ""}, got "${value}"`,
      );
    return n;
  };
}
