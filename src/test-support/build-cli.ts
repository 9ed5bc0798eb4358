// Vitest's global setup: compiles the CLI once, so that the tests' hundreds of `cai` child processes start
// from JavaScript (0.7 s each here) instead of each compiling TypeScript through tsx (1.9 s). The build
// goes to .test-dist/, beside src/, so the CLI finds data/, schema/ and organism/ as from dist/.
import { execFile } from "node:child_process";
import path from "node:path";
import { promisify } from "node:util";
import type { TestProject } from "vitest/node";

declare module "vitest" {
  export interface ProvidedContext {
    /** The compiled CLI's entry point. */
    caiCliMain: string;
  }
}

const root = path.resolve(import.meta.dirname, "../..");
const testDist = path.join(root, ".test-dist");

/** Each project runs the global setup; the build is shared by all of them. */
let built: Promise<unknown> | undefined;

export default async function setup(project: TestProject): Promise<void> {
  // Incremental: a rerun with unchanged sources emits nothing and takes a few seconds.
  built ??= promisify(execFile)(
    process.execPath,
    [
      path.join(root, "node_modules/typescript/bin/tsc"),
      "-p",
      path.join(root, "tsconfig.json"),
      "--outDir",
      testDist,
      "--incremental",
      "--tsBuildInfoFile",
      path.join(testDist, ".tsbuildinfo"),
      "--declaration",
      "false",
      "--sourceMap",
      "false",
    ],
    { cwd: root },
  );
  await built;
  project.provide("caiCliMain", path.join(testDist, "cli/main.js"));
}
