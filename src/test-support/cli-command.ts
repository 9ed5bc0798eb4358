// How tests start the real `cai`: the CLI vitest's global setup compiled (build-cli.ts), or, outside vitest
// runs that set it up, the sources through tsx.
import path from "node:path";
import { inject } from "vitest";

const sourceMain = path.resolve(import.meta.dirname, "../cli/main.ts");

/** The node arguments that run `cai ...args` (with `process.execPath`). */
export function cliArgs(...args: readonly string[]): string[] {
  const built = inject("caiCliMain");
  return built ? [built, ...args] : ["--import", "tsx", sourceMain, ...args];
}
