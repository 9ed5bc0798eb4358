// Progress of a long run: a self-redrawing line on a terminal, plain periodic lines in logs and CI, and
// a first line saying what a resumed run finds done. Hand-written: bar libraries (cli-progress…) draw on
// a TTY but do not write the periodic plain lines wanted when output goes to a file, and the whole
// thing is a few lines.

/** Where a run stands as an invocation starts on it. */
export interface RunStart {
  runDir: string;
  total: number;
  /** Records done by earlier invocations. */
  done: number;
  /** Records this invocation works on: pending ones, and failed ones with attempts left. */
  todo: number;
}

/** Receives progress as records finish. */
export interface ProgressReporter {
  start(run: RunStart): void;
  update(done: number, failed: number): void;
  finish(done: number, failed: number): void;
}

/** Options of {@link createProgress}. */
export interface ProgressOptions {
  label: string;
  /** What the records are, for messages ("prompts", "pairs"). Default "records". */
  unit?: string;
  stream?: NodeJS.WriteStream;
  /** Seconds between plain lines when not on a terminal. Default 10. */
  plainEverySeconds?: number;
}

/**
 * A reporter for `stream` (default stderr): a bar on a TTY, else a line every few seconds; a resumed
 * run first says what it skips ("resuming runs/x: 212/400 prompts done before, 188 to do").
 */
export function createProgress({
  label,
  unit = "records",
  stream = process.stderr,
  plainEverySeconds = 10,
}: ProgressOptions): ProgressReporter {
  let total = 0;
  let startDone = 0;
  let started = 0;
  let lastPlain = 0;
  const line = (done: number, failed: number) => {
    const seconds = (performance.now() - started) / 1000;
    const rate = seconds > 0 ? (done - startDone) / seconds : 0;
    const left = total - done - failed;
    const eta = rate > 0 && left > 0 ? ` ETA ${formatSeconds(left / rate)}` : "";
    return `${label}: ${done}/${total} done, ${failed} failed, ${rate.toFixed(2)}/s${eta}`;
  };
  return {
    start(run) {
      total = run.total;
      startDone = run.done;
      started = performance.now();
      lastPlain = started;
      const givenUp = run.total - run.done - run.todo;
      if (run.done > 0 || givenUp > 0)
        stream.write(
          `${label}: resuming ${run.runDir}: ${run.done}/${run.total} ${unit} done before, ${run.todo} to do` +
            `${givenUp > 0 ? `, ${givenUp} failed too often to retry (--max-attempts)` : ""}\n`,
        );
      stream.write(`${line(run.done, 0)}${stream.isTTY ? "" : "\n"}`);
    },
    update(done, failed) {
      if (stream.isTTY) {
        stream.write(`\r\x1b[2K${line(done, failed)}`);
      } else if (performance.now() - lastPlain >= plainEverySeconds * 1000) {
        lastPlain = performance.now();
        stream.write(`${line(done, failed)}\n`);
      }
    },
    finish(done, failed) {
      stream.write(`${stream.isTTY ? "\r\x1b[2K" : ""}${line(done, failed)}\n`);
    },
  };
}

function formatSeconds(seconds: number): string {
  if (seconds < 90) return `${Math.round(seconds)}s`;
  if (seconds < 5400) return `${Math.round(seconds / 60)}m`;
  return `${(seconds / 3600).toFixed(1)}h`;
}
