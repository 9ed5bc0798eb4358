// Reads the finished records of a revision run directory, for exporting.
import { RunStore } from "../runs/run-store.js";
import type { RevisionTrace } from "../stages/revise/revise-record.js";
import type { RevisePrompt } from "../stages/revise/run-revise.js";
import type { RevisedRecord } from "./revision-datasets.js";

/** Every revised prompt of the run in `runDir` (read-only; a run in progress can be exported too). */
export function readRevisedRecords(runDir: string): RevisedRecord[] {
  const store = RunStore.openForReading(runDir, "revise");
  try {
    return store.records<RevisePrompt, RevisionTrace>("done").map((record) => ({
      id: record.input.id,
      kind: record.input.kind,
      category: record.input.category,
      split: record.input.split,
      trace: record.result as RevisionTrace,
    }));
  } finally {
    store.close();
  }
}
