// Learning-rate schedule of the training loop: linear warmup to a peak, then cosine decay to a floor.
// Pure numbers, no tensors.
import { CaiError } from "../../errors/cai-error.js";

/** Parameters of {@link lrAt}. */
export interface LrSchedule {
  /** The learning rate at the end of the warmup. */
  readonly peak: number;
  /** Updates over which the rate rises linearly from peak / warmupSteps to the peak. 0: no warmup. */
  readonly warmupSteps: number;
  /** The update at which the cosine decay reaches the floor (the run's length). */
  readonly totalSteps: number;
  /** The floor as a fraction of the peak, in [0, 1]. Default 0.1. */
  readonly minRatio?: number;
}

/**
 * The learning rate of update number `step` (1-based: the first update is step 1):
 * - step ≤ warmupSteps: peak · step / warmupSteps (linear warmup, never 0);
 * - after: floor + (peak − floor) · ½(1 + cos(π · p)), p = (step − warmupSteps) / (totalSteps − warmupSteps)
 *   clamped to [0, 1], floor = peak · minRatio; so the rate is the floor from totalSteps on.
 * Throws CaiError on invalid parameters.
 */
export function lrAt(step: number, schedule: LrSchedule): number {
  const { peak, warmupSteps, totalSteps } = schedule;
  const minRatio = schedule.minRatio ?? 0.1;
  if (!(Number.isFinite(peak) && peak >= 0))
    throw new CaiError(`the peak learning rate must be ≥ 0, not ${peak}`);
  if (!(Number.isInteger(warmupSteps) && warmupSteps >= 0))
    throw new CaiError(`warmup steps must be a natural number, not ${warmupSteps}`);
  if (!(Number.isInteger(totalSteps) && totalSteps >= 1))
    throw new CaiError(`total steps must be a positive integer, not ${totalSteps}`);
  if (!(minRatio >= 0 && minRatio <= 1)) throw new CaiError(`minRatio must be in [0, 1], not ${minRatio}`);
  if (!Number.isFinite(step)) throw new CaiError(`the step must be a finite number, not ${step}`);
  if (step <= 0) return 0;
  if (step <= warmupSteps) return (peak * step) / warmupSteps;
  const floor = peak * minRatio;
  const span = totalSteps - warmupSteps;
  const progress = span <= 0 ? 1 : Math.min(1, (step - warmupSteps) / span);
  return floor + (peak - floor) * 0.5 * (1 + Math.cos(Math.PI * progress));
}
