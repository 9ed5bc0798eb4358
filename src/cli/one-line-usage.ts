// Usage errors as a person can act on them: commander's message on one line, `cai: …`, ending with a
// pointer to the command's help rather than the whole help under it, and exit code 2 (as for bad input).
import { type Command, CommanderError } from "commander";

/**
 * Makes `command` and every command under it report a usage error as one line — `cai: required option
 * '--model <spec>' not specified (see cai revise --help)` — and throw a CommanderError instead of exiting
 * (see {@link usageExitCode}).
 */
export function reportUsageErrorsOnOneLine(command: Command, commandPath = command.name()): void {
  command.exitOverride();
  command.configureOutput({
    outputError: (message, write) => {
      // Commander puts its "(Did you mean …?)" suggestion on a line of its own.
      const line = message
        .trim()
        .replace(/^error: /, "")
        .replace(/\s*\n\s*/g, " ");
      write(`cai: ${line} (see ${commandPath} --help)\n`);
    },
  });
  for (const sub of command.commands) reportUsageErrorsOnOneLine(sub, `${commandPath} ${sub.name()}`);
}

/**
 * The exit code for what commander threw while parsing: 0 after `--help` or `--version`, 2 for a usage
 * error; undefined for anything that is not commander's.
 */
export function usageExitCode(error: unknown): number | undefined {
  if (!(error instanceof CommanderError)) return undefined;
  return error.exitCode === 0 ? 0 : 2;
}
