// The run-directory lock across real processes: a second process is refused while the first holds it,
// a SIGKILLed holder leaves nothing stuck, a held directory covers the run directories inside it, and
// within one process the lock is re-entrant.
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { mkdtemp } from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";
import { afterEach, describe, expect, it } from "vitest";
import { testFolder } from "../test-support/test-models.js";
import { RunDirInUseError } from "./run-dir-in-use-error.js";
import { lockFileName, lockHolderFileName, lockRunDir } from "./run-dir-lock.js";
import { RunStore } from "./run-store.js";

const lockModule = path.resolve(import.meta.dirname, "run-dir-lock.ts");
const childScript = (mode: "hold" | "try", dir: string) => `
  import { lockRunDir } from ${JSON.stringify(lockModule)};
  try {
    lockRunDir(${JSON.stringify(dir)});
    console.log("${mode === "hold" ? "held" : "acquired"}");
    ${mode === "hold" ? "setInterval(() => {}, 1000);" : ""}
  } catch (error) {
    console.log(error.name + ": " + error.message);
  }
`;
const nodeArgs = (mode: "hold" | "try", dir: string) => [
  "--import",
  "tsx",
  "--input-type=module",
  "-e",
  childScript(mode, dir),
];

const children: ChildProcess[] = [];
afterEach(() => {
  for (const child of children.splice(0)) child.kill("SIGKILL");
});

/** A child process that holds `dir`'s lock until killed. */
async function holdInChild(dir: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, nodeArgs("hold", dir), { stdio: ["ignore", "pipe", "inherit"] });
  children.push(child);
  await new Promise<void>((resolve, reject) => {
    child.stdout?.on("data", (chunk: Buffer) => {
      if (chunk.toString().includes("held")) resolve();
    });
    child.once("exit", () => reject(new Error("the lock-holding child exited")));
  });
  return child;
}

/** What another process gets when it tries to lock `dir`: "acquired" or the error it threw. */
async function tryInChild(dir: string): Promise<string> {
  const { stdout } = await promisify(execFile)(process.execPath, nodeArgs("try", dir));
  return stdout.trim();
}

async function killed(child: ChildProcess): Promise<void> {
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.kill("SIGKILL");
  await exited;
}

describe("the run-directory lock", () => {
  it("refuses a second process, naming the holder, and dies with a SIGKILLed holder", async () => {
    const dir = path.join(await mkdtemp(path.join(await testFolder(), "lock-")), "run");
    const holder = await holdInChild(dir);
    const refused = (() => {
      try {
        lockRunDir(dir);
        return undefined;
      } catch (error) {
        return error;
      }
    })();
    expect(RunDirInUseError.isInstance(refused)).toBe(true);
    expect((refused as Error).message).toMatch(
      new RegExp(
        `^${dir} is in use by another cai process \\(pid ${holder.pid}, started \\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ\\); wait for it to finish or stop it$`,
      ),
    );
    await killed(holder);
    const lock = lockRunDir(dir);
    expect(JSON.parse(readFileSync(path.join(dir, lockHolderFileName), "utf8")).pid).toBe(process.pid);
    expect(await tryInChild(dir)).toMatch(new RegExp(`in use by another cai process \\(pid ${process.pid},`));
    lock.release();
    expect(existsSync(path.join(dir, lockHolderFileName))).toBe(false);
    expect(existsSync(path.join(dir, lockFileName))).toBe(true);
    expect(await tryInChild(dir)).toBe("acquired");
  });

  it("is re-entrant within a process: held until every lock is released", async () => {
    const dir = path.join(await mkdtemp(path.join(await testFolder(), "lock-")), "run");
    const first = lockRunDir(dir);
    const second = lockRunDir(dir);
    first.release();
    first.release();
    expect(await tryInChild(dir)).toMatch(/^RunDirInUseError: /);
    second.release();
    expect(await tryInChild(dir)).toBe("acquired");
  });

  it("covers the run directories inside a held one, without locking its holder out of them", async () => {
    const out = await mkdtemp(path.join(await testFolder(), "lock-eval-"));
    const inner = path.join(out, "responses");
    // Another process holds OUT: its inner run directories are refused here.
    const holder = await holdInChild(out);
    const error = (() => {
      try {
        lockRunDir(inner);
      } catch (e) {
        return e as Error;
      }
    })();
    expect(error?.message).toMatch(
      new RegExp(`^${inner} is in use: another cai process works on ${out} \\(pid ${holder.pid}, started `),
    );
    await killed(holder);
    // This process holds OUT and opens a run store inside it; another process is kept out of both.
    const outer = lockRunDir(out);
    const store = RunStore.open(inner, { stage: "respond", config: {}, constitutionHash: "none" });
    expect(await tryInChild(inner)).toMatch(/^RunDirInUseError: /);
    store.close();
    expect(await tryInChild(inner)).toMatch(new RegExp(`works on ${out} \\(pid ${process.pid},`));
    outer.release();
    expect(await tryInChild(inner)).toBe("acquired");
  });

  it("is held by a run store opened for work, not by one opened for reading", async () => {
    const dir = path.join(await mkdtemp(path.join(await testFolder(), "lock-")), "run");
    const identity = { stage: "revise", config: { seed: 1 }, constitutionHash: "c" };
    RunStore.open(dir, identity).close();
    const holder = await holdInChild(dir);
    expect(() => RunStore.open(dir, identity)).toThrow(/is in use by another cai process/);
    const reader = RunStore.openForReading(dir, "revise");
    expect(reader.counts().total).toBe(0);
    reader.close();
    await killed(holder);
    // A refused open (another config) lets its lock go.
    expect(() => RunStore.open(dir, { ...identity, config: { seed: 2 } })).toThrow(/different config/);
    expect(await tryInChild(dir)).toBe("acquired");
  });
});
