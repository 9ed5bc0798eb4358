// Crash tests: a run directory's progress read from another process's SQLite store, and a CLI child
// process killed once the run has got that far.
import { type ChildProcess, spawn } from "node:child_process";
import path from "node:path";
import Database from "better-sqlite3";
import { cliArgs } from "./cli-command.js";

/** Records done so far in the run at `runDir` (0 when its database does not exist yet). */
export function doneCount(runDir: string): number {
  try {
    const db = new Database(path.join(runDir, "run.sqlite"), { readonly: true, fileMustExist: true });
    try {
      return (db.prepare("SELECT COUNT(*) AS n FROM records WHERE status = 'done'").get() as { n: number }).n;
    } finally {
      db.close();
    }
  } catch {
    return 0;
  }
}

/**
 * Starts the `cai` command line with `args` in a child process, waits until the run at `runDir` has
 * `done` records done (or a minute passed), then SIGKILLs it and waits for it to exit.
 */
export async function killWhenDone(args: readonly string[], runDir: string, done: number): Promise<void> {
  const child: ChildProcess = spawn(process.execPath, cliArgs(...args), {
    stdio: "ignore",
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const deadline = Date.now() + 60_000;
  while (doneCount(runDir) < done && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  child.kill("SIGKILL");
  await exited;
}
