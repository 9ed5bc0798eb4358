// A SQLite store of model calls (better-sqlite3), keyed by a hash of everything that determines the
// answer: model fingerprint, operation and every parameter. Reruns of deterministic calls cost nothing.
import { createHash } from "node:crypto";
import { mkdirSync } from "node:fs";
import path from "node:path";
import Database from "better-sqlite3";
import { canonicalJson } from "../../io/canonical-json.js";

/** Hit and miss counts since the cache was opened. */
export interface CallCacheStats {
  hits: number;
  misses: number;
}

/** A persistent cache of model calls. Safe to share between processes (WAL journal). */
export class CallCache {
  private readonly db: Database.Database;
  private readonly getStatement: Database.Statement<[string], { response: string }>;
  private readonly putStatement: Database.Statement<[string, string, string, string, number]>;
  readonly stats: CallCacheStats = { hits: 0, misses: 0 };

  /** Opens (creating if needed) the cache at `file`; `:memory:` for a cache that lives with the process. */
  constructor(readonly file: string) {
    if (file !== ":memory:") mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    this.db = new Database(file);
    this.db.pragma("journal_mode = WAL");
    this.db.pragma("busy_timeout = 5000");
    this.db.exec(`CREATE TABLE IF NOT EXISTS calls (
      key TEXT PRIMARY KEY,
      operation TEXT NOT NULL,
      model TEXT NOT NULL,
      response TEXT NOT NULL,
      created_at INTEGER NOT NULL
    )`);
    this.getStatement = this.db.prepare("SELECT response FROM calls WHERE key = ?");
    this.putStatement = this.db.prepare(
      "INSERT OR REPLACE INTO calls (key, operation, model, response, created_at) VALUES (?, ?, ?, ?, ?)",
    );
  }

  /** The cache key of a call: a SHA-256 of its canonical JSON. */
  static key(operation: string, fingerprint: string, request: unknown): string {
    return createHash("sha256").update(canonicalJson({ operation, fingerprint, request })).digest("hex");
  }

  get<T>(key: string): T | undefined {
    const row = this.getStatement.get(key);
    if (row) this.stats.hits += 1;
    else this.stats.misses += 1;
    return row ? (JSON.parse(row.response, reviveNumbers) as T) : undefined;
  }

  put(key: string, operation: string, fingerprint: string, response: unknown): void {
    this.putStatement.run(key, operation, fingerprint, JSON.stringify(response, keepNumbers), Date.now());
  }

  /** Number of stored calls. */
  size(): number {
    return (this.db.prepare("SELECT COUNT(*) AS n FROM calls").get() as { n: number }).n;
  }

  close(): void {
    this.db.close();
  }
}

// JSON has no ±Infinity or NaN, and log-probabilities of impossible tokens are −Infinity.
const nonFinite = "\u0000number:";
function keepNumbers(_key: string, value: unknown): unknown {
  return typeof value === "number" && !Number.isFinite(value) ? `${nonFinite}${value}` : value;
}
function reviveNumbers(_key: string, value: unknown): unknown {
  return typeof value === "string" && value.startsWith(nonFinite)
    ? Number(value.slice(nonFinite.length))
    : value;
}
