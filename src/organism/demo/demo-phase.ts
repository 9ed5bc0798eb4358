// The demo's phases: each runs once, stores what it produced (and how long it took) in
// OUT/phases/<name>.json, and is skipped on a rerun — so an interrupted demo resumes where it stopped
// (the stages inside a phase resume from their own run directories and checkpoints).
import { existsSync, readFileSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { DemoStoppedError } from "./demo-stopped-error.js";

/** A phase's stored result and wall time. */
interface PhaseRecord<T> {
  readonly seconds: number;
  readonly result: T;
}

/** Runs named phases in `out`, remembering their results and times. */
export class DemoPhases {
  /** Wall time of every phase this run knows, in seconds (stored phases keep their first time). */
  readonly seconds = new Map<string, number>();

  constructor(
    private readonly out: string,
    private readonly log: (line: string) => void,
    private readonly stop?: AbortSignal,
  ) {}

  /** The result of phase `name`: stored, or computed by `run` now (and stored). */
  async run<T>(name: string, run: () => Promise<T>): Promise<T> {
    const file = path.join(this.out, "phases", `${name}.json`);
    if (existsSync(file)) {
      const stored = JSON.parse(readFileSync(file, "utf8")) as PhaseRecord<T>;
      this.seconds.set(name, stored.seconds);
      return stored.result;
    }
    if (this.stop?.aborted) throw new DemoStoppedError("stopped; rerun the same command to resume");
    this.log(`${name}…`);
    const started = performance.now();
    const result = await run();
    if (this.stop?.aborted) throw new DemoStoppedError("stopped; rerun the same command to resume");
    const seconds = Math.round((performance.now() - started) / 100) / 10;
    this.seconds.set(name, seconds);
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, `${JSON.stringify({ seconds, result } satisfies PhaseRecord<T>)}\n`);
    this.log(`${name}: done in ${seconds} s`);
    return result;
  }
}
