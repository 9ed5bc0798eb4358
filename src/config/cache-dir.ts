// Where cai keeps what it can recompute but would rather not: thread measurements, downloaded models.
import os from "node:os";
import path from "node:path";

/** `$CAI_CACHE_DIR`, else `$XDG_CACHE_HOME/cai`, else `~/.cache/cai`. */
export function caiCacheDir(): string {
  if (process.env.CAI_CACHE_DIR) return path.resolve(process.env.CAI_CACHE_DIR);
  const base = process.env.XDG_CACHE_HOME || path.join(os.homedir(), ".cache");
  return path.join(base, "cai");
}
