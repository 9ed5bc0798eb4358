// Works through a run's remaining records with bounded concurrency (backpressure: never more than N
// in flight), committing each result as it lands; a stop request lets in-flight records finish.
import type { ProgressReporter } from "./progress.js";
import type { RunCounts, RunRecord, RunStore } from "./run-store.js";

/** Options of {@link runRecords}. */
export interface RunLoopOptions<Input, Result> {
  store: RunStore;
  /** Records worked on at once. */
  concurrency: number;
  /** A failed record is tried again on later runs until it has failed this many times. Default 3. */
  maxAttempts?: number;
  /** Does one record; throwing marks it failed with the error's message. */
  work: (record: RunRecord<Input, never>) => Promise<Result>;
  /** When it fires, no new record starts; those in flight finish and are stored. */
  stop?: AbortSignal;
  progress?: ProgressReporter;
}

/** What one invocation did. */
export interface RunLoopOutcome {
  attempted: number;
  succeeded: number;
  failed: number;
  /** True when `stop` fired before every record was attempted. */
  interrupted: boolean;
}

/** What a stage's run did, and where its whole run directory stands: counts and the failures' errors. */
export type StageRunResult = RunLoopOutcome & {
  counts: RunCounts;
  failures: Array<{ error: string; count: number }>;
};

/** Runs every record still to do. */
export async function runRecords<Input, Result>(
  options: RunLoopOptions<Input, Result>,
): Promise<RunLoopOutcome> {
  const { store, stop, progress } = options;
  const todo = store.todo<Input>(options.maxAttempts ?? 3);
  const before = store.counts();
  progress?.start({ runDir: store.dir, total: before.total, done: before.done, todo: todo.length });
  const outcome: RunLoopOutcome = { attempted: 0, succeeded: 0, failed: 0, interrupted: false };
  let next = 0;
  const worker = async () => {
    while (next < todo.length) {
      if (stop?.aborted) {
        outcome.interrupted = true;
        return;
      }
      const record = todo[next] as RunRecord<Input, never>;
      next += 1;
      outcome.attempted += 1;
      try {
        const result = await options.work(record);
        store.complete(record.id, result);
        outcome.succeeded += 1;
      } catch (error) {
        store.fail(record.id, error instanceof Error ? error.message : String(error));
        outcome.failed += 1;
      }
      const counts = store.counts();
      progress?.update(counts.done, counts.failed);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, options.concurrency) }, worker));
  const after = store.counts();
  progress?.finish(after.done, after.failed);
  return outcome;
}
