// Reads a run directory's progress from another process's SQLite store, for crash tests that kill a run.
import path from "node:path";
import Database from "better-sqlite3";

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
