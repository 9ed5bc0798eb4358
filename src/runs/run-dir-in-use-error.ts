// Thrown when a run directory is already being worked on by another cai process.
import { CaiError } from "../errors/cai-error.js";

/** Who holds a run directory's lock, as it recorded itself (absent when it could not be read). */
export interface LockHolder {
  pid: number;
  /** When it took the lock, ISO 8601. */
  startedAt: string;
}

/** A second process on a run directory: both would do all the work, so the second one stops. */
export class RunDirInUseError extends CaiError {
  override readonly name = "RunDirInUseError";
  constructor(
    readonly runDir: string,
    readonly holder: LockHolder | undefined,
    /** The directory whose lock is held, when it is one that contains `runDir` (e.g. `cai eval --out`). */
    readonly lockedDir?: string,
  ) {
    const who = holder ? ` (pid ${holder.pid}, started ${holder.startedAt.replace(/\.\d+Z$/, "Z")})` : "";
    super(
      lockedDir
        ? `${runDir} is in use: another cai process works on ${lockedDir}${who}; wait for it to finish or stop it`
        : `${runDir} is in use by another cai process${who}; wait for it to finish or stop it`,
    );
  }
  static override isInstance(value: unknown): value is RunDirInUseError {
    return CaiError.isInstance(value) && value.name === "RunDirInUseError";
  }
}
