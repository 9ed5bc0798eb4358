// Bad input as people type it, through the real command line: every case exits with code 2 and one line
// on stderr that names the flag, the option or the file (with its place), and never a stack trace. None
// loads a model, so each fails as fast as the command line starts (`npm run bench:bad-input` times them).
import { mkdtemp } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { badInputCases } from "../test-support/bad-input-cases.js";
import { runCli } from "../test-support/run-cli.js";
import { testFolder } from "../test-support/test-models.js";

const cases = await badInputCases(await mkdtemp(path.join(await testFolder(), "bad-input-")));

/** At most `limit` CLI processes at once: the machine has two cores. */
function limiter(limit: number): <T>(run: () => Promise<T>) => Promise<T> {
  let running = 0;
  const waiting: Array<() => void> = [];
  return async (run) => {
    if (running >= limit) await new Promise<void>((resolve) => waiting.push(resolve));
    running += 1;
    try {
      return await run();
    } finally {
      running -= 1;
      waiting.shift()?.();
    }
  };
}
const inTurn = limiter(2);

describe("bad input on the command line", () => {
  it.concurrent.each(cases)(
    "$name: exit 2, one line naming it, no stack",
    async ({ args, names }) => {
      const { code, stderr, stdout } = await inTurn(() => runCli(...args));
      const lines = stderr.trimEnd().split("\n");
      expect({ code, lines: lines.length, stdout }, stderr).toEqual({ code: 2, lines: 1, stdout: "" });
      expect(stderr).toMatch(/^cai: /);
      for (const name of names)
        if (typeof name === "string") expect(stderr).toContain(name);
        else expect(stderr).toMatch(name);
      expect(stderr).not.toMatch(/\n\s+at /);
      expect(stderr).not.toMatch(/unexpected error/);
    },
    180_000,
  );
});
