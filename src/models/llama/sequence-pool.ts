// A set of context sequences handed out to concurrent calls, one call at a time each; callers beyond the
// pool's size wait their turn in arrival order. The pool may grow on demand (one new llama.cpp context
// per sequence, for paired decoding) up to a limit.
import type { LlamaContextSequence, Token } from "node-llama-cpp";

/** How a pool makes more sequences when every one is busy. */
export interface PoolGrowth {
  /** Most sequences the pool may hold. */
  max: number;
  create: () => Promise<LlamaContextSequence>;
}

/** Lends sequences to one call at a time each. */
export class SequencePool {
  private readonly free: LlamaContextSequence[];
  private readonly waiting: Array<(sequence: LlamaContextSequence) => void> = [];
  private size: number;
  private maxSize: number;
  private growing = 0;

  constructor(
    sequences: LlamaContextSequence[],
    private readonly growth?: PoolGrowth,
  ) {
    this.free = [...sequences];
    this.size = sequences.length;
    this.maxSize = Math.max(this.size, growth?.max ?? 0);
  }

  /** Waits for a free sequence (making one when the pool may grow); rejects if `signal` aborts first. */
  acquire(signal?: AbortSignal, tokens?: readonly Token[]): Promise<LlamaContextSequence> {
    if (this.free.length > 0) {
      // The free sequence already holding most of the call's tokens; the most recently used on a tie.
      let best = this.free.length - 1;
      let bestShared = -1;
      for (let i = this.free.length - 1; i >= 0; i -= 1) {
        const shared = tokens
          ? (this.free[i] as LlamaContextSequence).compareContextTokens([...tokens]).firstDifferentIndex
          : 0;
        if (shared > bestShared) {
          best = i;
          bestShared = shared;
        }
      }
      const [sequence] = this.free.splice(best, 1);
      if (sequence) return Promise.resolve(sequence);
    }
    if (this.growth && this.size + this.growing < this.maxSize) return this.grow(this.growth, signal);
    return this.wait(signal);
  }

  /** Returns a sequence to the pool, or straight to the next waiting caller. */
  release(sequence: LlamaContextSequence): void {
    const next = this.waiting.shift();
    if (next) next(sequence);
    else this.free.push(sequence);
  }

  /** Runs `work` with a sequence borrowed from the pool. */
  async with<T>(
    signal: AbortSignal | undefined,
    work: (sequence: LlamaContextSequence) => Promise<T>,
    tokens?: readonly Token[],
  ): Promise<T> {
    const sequence = await this.acquire(signal, tokens);
    try {
      return await work(sequence);
    } finally {
      this.release(sequence);
    }
  }

  private async grow(growth: PoolGrowth, signal?: AbortSignal): Promise<LlamaContextSequence> {
    this.growing += 1;
    try {
      const sequence = await growth.create();
      this.size += 1;
      return sequence;
    } catch {
      // No room for another context (memory): stay at the size reached and wait for a sequence instead.
      this.maxSize = this.size;
      return this.wait(signal);
    } finally {
      this.growing -= 1;
    }
  }

  private wait(signal?: AbortSignal): Promise<LlamaContextSequence> {
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        const index = this.waiting.indexOf(take);
        if (index >= 0) this.waiting.splice(index, 1);
        reject(signal?.reason);
      };
      const take = (s: LlamaContextSequence) => {
        signal?.removeEventListener("abort", onAbort);
        resolve(s);
      };
      if (signal?.aborted) return onAbort();
      signal?.addEventListener("abort", onAbort, { once: true });
      this.waiting.push(take);
    });
  }
}
