// The seed of one record's random draws, from the run's seed and the record's id, shared by every stage
// (revise, respond, label) and the RL trainer's rollouts so draws do not depend on order or concurrency.

/** A seed from the run seed and a record id (FNV-1a), so draws do not depend on order or concurrency. */
export function recordSeed(seed: number, id: string): number {
  let hash = 0x811c9dc5 ^ seed;
  for (const char of id) {
    hash ^= char.codePointAt(0) ?? 0;
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}
