// How every CLI command ends: success, or one clear line on stderr and a non-zero exit — no stack
// trace unless CAI_DEBUG=1 asks for it.
import { InvalidArgumentError } from "commander";
import { CaiError } from "../errors/cai-error.js";
import { GgufFormatError } from "../gguf/gguf-format-error.js";

/**
 * Errors about what the user gave — a malformed input file, a refused flag value, a spec string, a
 * prompt set that does not exist — exit with code 2, as usage errors do; anything else with 1.
 */
const userInputErrors = new Set([
  "InputFileError",
  "UsageError",
  "ModelSpecError",
  "UnknownPromptSetError",
  "RoundOutOfRangeError",
]);

/** The exit code for an error a command threw: 2 for the user's input, 1 otherwise. */
export function exitCodeOf(error: unknown): 1 | 2 {
  if (error instanceof InvalidArgumentError) return 2;
  // A damaged GGUF file is the user's input too, also when a model load error wraps it.
  const cause = error instanceof Error ? error.cause : undefined;
  if (GgufFormatError.isInstance(error) || GgufFormatError.isInstance(cause)) return 2;
  return CaiError.isInstance(error) && userInputErrors.has(error.name) ? 2 : 1;
}

/**
 * Wraps a command action so errors print as `cai: message`, exiting with code 2 for the user's input
 * (see {@link exitCodeOf}) and 1 for anything else.
 */
export function runAction<A extends unknown[]>(
  action: (...args: A) => Promise<void>,
): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      await action(...args);
    } catch (error) {
      process.exitCode = exitCodeOf(error);
      if (process.env.CAI_DEBUG) console.error(error);
      else if (CaiError.isInstance(error) || error instanceof InvalidArgumentError)
        console.error(`cai: ${error.message}`);
      else
        console.error(
          `cai: unexpected error: ${error instanceof Error ? error.message : String(error)} (CAI_DEBUG=1 shows the stack)`,
        );
    }
  };
}

/** Parses a repeatable flag: each use adds its value to the list (`--model a --model b`). */
export function collectFlag(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/**
 * Parses a whole-number flag written in decimal digits (`""`, `1e3` and `0x10` are refused, not read as
 * 0, 1000 and 16), between `min` and `max`; commander reports a bad value with the flag's name.
 */
export function intFlag(
  name: string,
  min = Number.NEGATIVE_INFINITY,
  max = Number.POSITIVE_INFINITY,
): (value: string) => number {
  return (value: string) => {
    const n = /^\s*[+-]?\d+\s*$/.test(value) ? Number(value) : Number.NaN;
    if (!Number.isSafeInteger(n) || n < min || n > max) {
      const range =
        max < Number.POSITIVE_INFINITY
          ? ` from ${min} to ${max}`
          : min > Number.NEGATIVE_INFINITY
            ? ` ≥ ${min}`
            : "";
      throw new InvalidArgumentError(`${name} must be a whole number${range}, got "${value}"`);
    }
    return n;
  };
}
