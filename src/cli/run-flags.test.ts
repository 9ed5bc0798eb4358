import { afterEach, describe, expect, it, vi } from "vitest";
import type { StageRunResult } from "../runs/run-loop.js";
import { reportFailures } from "./run-flags.js";

const result = (failed: number, interrupted = false): StageRunResult => ({
  attempted: 10,
  succeeded: 10 - failed,
  failed,
  interrupted,
  counts: { total: 10, done: 10 - failed, failed, pending: 0 },
  failures: Array.from({ length: failed }, (_, i) => ({ error: `error ${i}`, count: 1 })),
});

describe("reportFailures", () => {
  afterEach(() => {
    process.exitCode = undefined;
    vi.restoreAllMocks();
  });

  it("prints the five most common errors and exits non-zero past --max-failures", () => {
    const lines: string[] = [];
    vi.spyOn(console, "error").mockImplementation((line: string) => lines.push(line));
    reportFailures("revise", result(7), 6);
    expect(lines[0]).toBe("revise: 7 prompts failed (rerun to retry them, up to --max-attempts):");
    expect(lines.slice(1)).toEqual([0, 1, 2, 3, 4].map((i) => `  1 × error ${i}`));
    expect(process.exitCode).toBe(1);
  });

  it("keeps a zero exit within --max-failures, and says nothing when nothing failed", () => {
    const lines: string[] = [];
    vi.spyOn(console, "error").mockImplementation((line: string) => lines.push(line));
    reportFailures("respond", result(2), 2);
    expect(lines).toHaveLength(3);
    expect(process.exitCode).toBeUndefined();
    reportFailures("respond", result(0), 0);
    expect(lines).toHaveLength(3);
  });

  it("leaves the exit code of an interrupted run to the caller", () => {
    vi.spyOn(console, "error").mockImplementation(() => undefined);
    process.exitCode = 130;
    reportFailures("respond", result(3, true), 0);
    expect(process.exitCode).toBe(130);
  });
});
