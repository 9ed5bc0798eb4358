// One process per run directory. The lock is the operating system's: an exclusive SQLite lock (POSIX
// fcntl / Windows LockFileEx) on RUN_DIR/cai.lock, held by an open connection, so it ends with the
// process however that ends — a SIGKILLed run leaves nothing stuck, and there is no pid to trust or
// staleness to guess (lock-file packages such as proper-lockfile renew an mtime on a timer, which a
// training step that blocks the event loop for seconds would let go stale). Locking a directory also
// refuses while another process holds a directory that contains it (`cai eval --out X` holds X, so
// `cai respond --out X/responses` waits its turn); within one process locks are re-entrant, so a
// command holding X can open the run stores under it.
import { existsSync, mkdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import Database from "better-sqlite3";
import { z } from "zod";
import { type LockHolder, RunDirInUseError } from "./run-dir-in-use-error.js";

/** The lock file in a run directory: an empty SQLite database, locked while a process works there. */
export const lockFileName = "cai.lock";
/** Who holds the lock (pid, start), for the message a second process prints; removed on release. */
export const lockHolderFileName = "cai.lock.json";

/** A held run-directory lock. */
export interface RunDirLock {
  readonly dir: string;
  /** Lets the lock go (once; later calls do nothing). */
  release(): void;
}

interface HeldLock {
  readonly connection: Database.Database;
  count: number;
}

/** Locks this process holds, by real path. */
const held = new Map<string, HeldLock>();
let exitHooked = false;

const holderSchema = z.object({ pid: z.number().int(), startedAt: z.string() });

/**
 * Locks `dir` (created if needed) for this process, or throws {@link RunDirInUseError} when another
 * process holds it or a directory containing it. Re-entrant: a directory this process holds already
 * is counted again, and every lock must be released.
 */
export function lockRunDir(dir: string): RunDirLock {
  mkdirSync(dir, { recursive: true });
  const key = realpathSync(dir);
  const existing = held.get(key);
  if (existing) existing.count += 1;
  else held.set(key, { connection: acquire(dir, key), count: 1 });
  let released = false;
  return {
    dir,
    release() {
      if (released) return;
      released = true;
      const lock = held.get(key);
      if (!lock || --lock.count > 0) return;
      held.delete(key);
      rmSync(path.join(key, lockHolderFileName), { force: true });
      lock.connection.close();
    },
  };
}

/** Takes the OS lock on `key`'s lock file, after checking that no other process holds an ancestor. */
function acquire(dir: string, key: string): Database.Database {
  // Ancestors up to the root, or to one this process holds (it checked those above it when it took it).
  for (let ancestor = key; path.dirname(ancestor) !== ancestor; ) {
    ancestor = path.dirname(ancestor);
    if (held.has(ancestor)) break;
    const file = path.join(ancestor, lockFileName);
    if (existsSync(file) && lockedElsewhere(file))
      throw new RunDirInUseError(dir, readHolder(ancestor), ancestor);
  }
  // A short wait rides out another process's momentary probe (above) of this same file.
  const connection = new Database(path.join(key, lockFileName), { timeout: 200 });
  try {
    // An in-memory journal: taking the lock writes nothing, so the file stays empty.
    connection.pragma("journal_mode = MEMORY");
    connection.exec("BEGIN EXCLUSIVE");
  } catch (error) {
    connection.close();
    if (isBusy(error)) throw new RunDirInUseError(dir, readHolder(key));
    throw error;
  }
  const holder: LockHolder = { pid: process.pid, startedAt: new Date().toISOString() };
  writeFileSync(path.join(key, lockHolderFileName), `${JSON.stringify(holder)}\n`);
  if (!exitHooked) {
    exitHooked = true;
    process.on("exit", removeHolderFiles);
  }
  return connection;
}

/** True when another process holds the lock file `file` (a shared read lock is refused). */
function lockedElsewhere(file: string): boolean {
  let probe: Database.Database | undefined;
  try {
    probe = new Database(file, { readonly: true, fileMustExist: true, timeout: 0 });
    probe.prepare("SELECT count(*) FROM sqlite_master").get();
    return false;
  } catch (error) {
    return isBusy(error);
  } finally {
    probe?.close();
  }
}

function isBusy(error: unknown): boolean {
  const code = (error as { code?: unknown }).code;
  return typeof code === "string" && (code.startsWith("SQLITE_BUSY") || code.startsWith("SQLITE_LOCKED"));
}

/** The holder a locked directory recorded, if it can be read. */
function readHolder(dir: string): LockHolder | undefined {
  try {
    const parsed = holderSchema.safeParse(
      JSON.parse(readFileSync(path.join(dir, lockHolderFileName), "utf8")),
    );
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/** On exit (also `process.exit`), the holder files of locks still held; the OS drops the locks. */
function removeHolderFiles(): void {
  for (const key of held.keys()) rmSync(path.join(key, lockHolderFileName), { force: true });
}
