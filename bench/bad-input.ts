// `npm run bench:bad-input`: how long each bad command line of issue 15 §3 takes to be refused, end to
// end through the CLI as `npm run cai` runs it (tsx), next to `cai --version` (the start-up floor); with
// the exit code and the number of stderr lines. Target: exit 2, one line, under 2 s. Asserts nothing.
import { execFile } from "node:child_process";
import { mkdtemp } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { badInputCases } from "../src/test-support/bad-input-cases.js";

const main = path.resolve(import.meta.dirname, "../src/cli/main.ts");

async function time(args: string[]): Promise<{ seconds: number; code: number; lines: number }> {
  const started = performance.now();
  const { code, stderr } = await promisify(execFile)(process.execPath, ["--import", "tsx", main, ...args], {
    env: { ...process.env, CAI_DEBUG: "" },
  }).then(
    ({ stderr }) => ({ code: 0, stderr }),
    (error: { code: number; stderr: string }) => ({ code: error.code, stderr: error.stderr }),
  );
  const lines = stderr.trimEnd() === "" ? 0 : stderr.trimEnd().split("\n").length;
  return { seconds: (performance.now() - started) / 1000, code, lines };
}

const cases = await badInputCases(await mkdtemp(path.join(os.tmpdir(), "cai-bench-bad-input-")));
await time(["--version"]); // warm-up: tsx compiles the sources once into its cache
const floor = await time(["--version"]);
console.log(`cai --version: ${floor.seconds.toFixed(2)} s (start-up floor)`);
let worst = 0;
for (const c of cases) {
  const run = await time(c.args);
  worst = Math.max(worst, run.seconds);
  console.log(`${run.seconds.toFixed(2)} s | exit ${run.code} | ${run.lines} line(s) | ${c.name}`);
}
console.log(`worst ${worst.toFixed(2)} s (target < 2 s)`);
