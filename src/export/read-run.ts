// Reads the finished records of a revision run directory, and the config it ran with, for exporting.
import { RunStore } from "../runs/run-store.js";
import type { RevisionTrace } from "../stages/revise/revise-record.js";
import type { RevisePrompt, ReviseRunConfig } from "../stages/revise/run-revise.js";
import type { RevisedRecord } from "./revision-datasets.js";

/** A revision run as read for exporting. */
export interface RevisionRun {
  config: ReviseRunConfig;
  records: RevisedRecord[];
}

/** The run in `runDir` (read-only; a run in progress can be exported too). */
export function readRevisionRun(runDir: string): RevisionRun {
  const store = RunStore.openForReading(runDir, "revise");
  try {
    const records = store.records<RevisePrompt, RevisionTrace>("done").map((record) => ({
      id: record.input.id,
      kind: record.input.kind,
      category: record.input.category,
      split: record.input.split,
      trace: record.result as RevisionTrace,
    }));
    return { config: store.config<ReviseRunConfig>(), records };
  } finally {
    store.close();
  }
}

/** Every revised prompt of the run in `runDir` (read-only; a run in progress can be exported too). */
export function readRevisedRecords(runDir: string): RevisedRecord[] {
  return readRevisionRun(runDir).records;
}
