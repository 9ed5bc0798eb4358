// Reads the finished records of a revision run directory, for exporting.
import { existsSync } from "node:fs";
import path from "node:path";
import Database from "better-sqlite3";
import { CaiError } from "../errors/cai-error.js";
import { runDatabaseName } from "../runs/run-store.js";
import type { RevisionTrace } from "../stages/revise/revise-record.js";
import type { RevisePrompt } from "../stages/revise/run-revise.js";
import type { RevisedRecord } from "./revision-datasets.js";

/** Every revised prompt of the run in `runDir` (read-only; a run in progress can be exported too). */
export function readRevisedRecords(runDir: string): RevisedRecord[] {
  const file = path.join(runDir, runDatabaseName);
  if (!existsSync(file)) throw new CaiError(`${runDir} is not a run directory (no ${runDatabaseName})`);
  const db = new Database(file, { readonly: true });
  try {
    const stage = db.prepare("SELECT value FROM meta WHERE key = 'stage'").get() as
      | { value: string }
      | undefined;
    if (stage?.value !== "revise")
      throw new CaiError(`${runDir} is a ${stage?.value ?? "unknown"} run, not a revise run`);
    const rows = db
      .prepare("SELECT input, result FROM records WHERE status = 'done' ORDER BY position")
      .all() as Array<{
      input: string;
      result: string;
    }>;
    return rows.map((row) => {
      const input = JSON.parse(row.input) as RevisePrompt;
      return {
        id: input.id,
        kind: input.kind,
        category: input.category,
        split: input.split,
        trace: JSON.parse(row.result) as RevisionTrace,
      };
    });
  } finally {
    db.close();
  }
}
