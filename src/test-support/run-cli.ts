// Runs the real `cai` command line in a child process, for tests of the CLI end to end.
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { cliArgs } from "./cli-command.js";

/** Runs `cai ...args`; resolves with the exit code and output, never rejects on a non-zero exit. */
export async function runCli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, cliArgs(...args), {
      env: { ...process.env, CAI_DEBUG: "" },
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}
