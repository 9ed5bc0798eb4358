// A run's durable state: one SQLite database per run directory holding the run's identity (stage,
// config and constitution hashes) and every record with its status, attempts, result and last error.
// Each record's result is committed in its own transaction, so a crash loses only calls in flight. A
// store opened for work holds the run directory's lock (one process per run); readers take none.
import { existsSync, mkdirSync, rmSync } from "node:fs";
import path from "node:path";
import Database from "better-sqlite3";
import { CaiError } from "../errors/cai-error.js";
import { canonicalJson } from "../io/canonical-json.js";
import { RunChangedError } from "./run-changed-error.js";
import { lockRunDir, type RunDirLock } from "./run-dir-lock.js";

/** What identifies a run: resuming requires the same stage, config and constitution. */
export interface RunIdentity {
  stage: string;
  /** The settings that change results (models, rounds, seed, sampling…), as plain JSON. */
  config: unknown;
  constitutionHash: string;
}

/** Where a record stands. */
export type RecordStatus = "pending" | "done" | "failed";

/** One unit of work and what became of it. */
export interface RunRecord<Input = unknown, Result = unknown> {
  id: string;
  position: number;
  status: RecordStatus;
  attempts: number;
  input: Input;
  result: Result | undefined;
  error: string | undefined;
}

/** Counts of records by status. */
export interface RunCounts {
  total: number;
  done: number;
  failed: number;
  pending: number;
}

interface RecordRow {
  id: string;
  position: number;
  status: RecordStatus;
  attempts: number;
  input: string;
  result: string | null;
  error: string | null;
}

/** The SQLite file inside a run directory. */
export const runDatabaseName = "run.sqlite";

/** A run directory's store. */
export class RunStore {
  private constructor(
    readonly dir: string,
    private readonly db: Database.Database,
    private readonly lock?: RunDirLock,
  ) {}

  /**
   * Opens the run in `dir`, creating it if new, and holds its lock until {@link close}: another process
   * working there gives {@link RunDirInUseError}. An existing run must have the same identity, else
   * {@link RunChangedError}; `restart` discards the old run first.
   */
  static open(dir: string, identity: RunIdentity, { restart = false } = {}): RunStore {
    const lock = lockRunDir(dir);
    try {
      return RunStore.openLocked(dir, identity, restart, lock);
    } catch (error) {
      lock.release();
      throw error;
    }
  }

  private static openLocked(
    dir: string,
    identity: RunIdentity,
    restart: boolean,
    lock: RunDirLock,
  ): RunStore {
    const file = path.join(dir, runDatabaseName);
    if (restart) {
      for (const suffix of ["", "-wal", "-shm"]) rmSync(file + suffix, { force: true });
    }
    mkdirSync(dir, { recursive: true });
    const db = new Database(file);
    db.pragma("journal_mode = WAL");
    db.pragma("synchronous = NORMAL");
    db.pragma("busy_timeout = 5000");
    db.exec(`
      CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS records (
        id TEXT PRIMARY KEY,
        position INTEGER NOT NULL,
        status TEXT NOT NULL DEFAULT 'pending',
        attempts INTEGER NOT NULL DEFAULT 0,
        input TEXT NOT NULL,
        result TEXT,
        error TEXT,
        updated_at INTEGER NOT NULL
      );
      CREATE INDEX IF NOT EXISTS records_by_status ON records (status, position);
    `);
    const store = new RunStore(dir, db, lock);
    store.claimIdentity(identity);
    return store;
  }

  private claimIdentity(identity: RunIdentity): void {
    const wanted: Record<string, string> = {
      stage: identity.stage,
      config: canonicalJson(identity.config),
      constitution: identity.constitutionHash,
    };
    const existing = new Map(
      (this.db.prepare("SELECT key, value FROM meta").all() as Array<{ key: string; value: string }>).map(
        (r) => [r.key, r.value],
      ),
    );
    if (existing.size === 0) {
      const insert = this.db.prepare("INSERT INTO meta (key, value) VALUES (?, ?)");
      this.db.transaction(() => {
        for (const [key, value] of Object.entries(wanted)) insert.run(key, value);
        insert.run("created_at", new Date().toISOString());
      })();
      return;
    }
    const changed = Object.keys(wanted).filter((key) => existing.get(key) !== wanted[key]);
    if (changed.length > 0) {
      this.db.close();
      throw new RunChangedError(this.dir, changed);
    }
  }

  /**
   * Opens an existing run read-only, for exporting (also while another process works on it); throws
   * unless `dir` holds a run of `stage`.
   */
  static openForReading(dir: string, stage: string): RunStore {
    const file = path.join(dir, runDatabaseName);
    if (!existsSync(file)) throw new CaiError(`${dir} is not a run directory (no ${runDatabaseName})`);
    const db = new Database(file, { readonly: true });
    const found = db.prepare("SELECT value FROM meta WHERE key = 'stage'").get() as
      | { value: string }
      | undefined;
    if (found?.value !== stage) {
      db.close();
      throw new CaiError(`${dir} is a ${found?.value ?? "unknown"} run, not a ${stage} run`);
    }
    return new RunStore(dir, db);
  }

  /** The config the run was started with. */
  config<T>(): T {
    const row = this.db.prepare("SELECT value FROM meta WHERE key = 'config'").get() as { value: string };
    return JSON.parse(row.value) as T;
  }

  /** Adds records not already in the run (by id); existing ones keep their state. */
  addRecords(records: Array<{ id: string; input: unknown }>): void {
    const base = (
      this.db.prepare("SELECT COALESCE(MAX(position), -1) AS p FROM records").get() as { p: number }
    ).p;
    const insert = this.db.prepare(
      "INSERT OR IGNORE INTO records (id, position, input, updated_at) VALUES (?, ?, ?, ?)",
    );
    this.db.transaction(() => {
      for (const [i, r] of records.entries())
        insert.run(r.id, base + 1 + i, JSON.stringify(r.input), Date.now());
    })();
  }

  /** Records still to do — pending, and failed ones with fewer than `maxAttempts` attempts — in order. */
  todo<Input>(maxAttempts: number): Array<RunRecord<Input, never>> {
    const rows = this.db
      .prepare(
        "SELECT * FROM records WHERE status = 'pending' OR (status = 'failed' AND attempts < ?) ORDER BY position",
      )
      .all(maxAttempts) as RecordRow[];
    return rows.map((row) => toRecord<Input, never>(row));
  }

  /** Every record, in order. */
  records<Input, Result>(status?: RecordStatus): Array<RunRecord<Input, Result>> {
    const rows = (
      status
        ? this.db.prepare("SELECT * FROM records WHERE status = ? ORDER BY position").all(status)
        : this.db.prepare("SELECT * FROM records ORDER BY position").all()
    ) as RecordRow[];
    return rows.map((row) => toRecord<Input, Result>(row));
  }

  /** Stores a record's result; one transaction, so it is there or not, never half. */
  complete(id: string, result: unknown): void {
    this.db
      .prepare(
        "UPDATE records SET status = 'done', attempts = attempts + 1, result = ?, error = NULL, updated_at = ? WHERE id = ?",
      )
      .run(JSON.stringify(result), Date.now(), id);
  }

  /** Marks a record failed with its reason; it is retried on a later run while attempts remain. */
  fail(id: string, reason: string): void {
    this.db
      .prepare(
        "UPDATE records SET status = 'failed', attempts = attempts + 1, error = ?, updated_at = ? WHERE id = ?",
      )
      .run(reason, Date.now(), id);
  }

  counts(): RunCounts {
    const rows = this.db.prepare("SELECT status, COUNT(*) AS n FROM records GROUP BY status").all() as Array<{
      status: RecordStatus;
      n: number;
    }>;
    const counts = { total: 0, done: 0, failed: 0, pending: 0 };
    for (const row of rows) {
      counts[row.status] = row.n;
      counts.total += row.n;
    }
    return counts;
  }

  /** Failure reasons with how many records each stopped. */
  failureSummary(): Array<{ error: string; count: number }> {
    return this.db
      .prepare(
        "SELECT error, COUNT(*) AS count FROM records WHERE status = 'failed' GROUP BY error ORDER BY count DESC",
      )
      .all() as Array<{ error: string; count: number }>;
  }

  close(): void {
    this.db.close();
    this.lock?.release();
  }
}

function toRecord<Input, Result>(row: RecordRow): RunRecord<Input, Result> {
  return {
    id: row.id,
    position: row.position,
    status: row.status,
    attempts: row.attempts,
    input: JSON.parse(row.input) as Input,
    result: row.result === null ? undefined : (JSON.parse(row.result) as Result),
    error: row.error ?? undefined,
  };
}
