// A fixed set of context sequences handed out to concurrent calls, so llama.cpp can batch them;
// callers beyond the pool size wait their turn in arrival order.
import type { LlamaContextSequence } from "node-llama-cpp";

/** Lends the sequences of one llama.cpp context to one call at a time each. */
export class SequencePool {
  private readonly free: LlamaContextSequence[];
  private readonly waiting: Array<(sequence: LlamaContextSequence) => void> = [];

  constructor(sequences: LlamaContextSequence[]) {
    this.free = [...sequences];
  }

  /** Waits for a free sequence; rejects if `signal` aborts first. */
  acquire(signal?: AbortSignal): Promise<LlamaContextSequence> {
    const sequence = this.free.pop();
    if (sequence) return Promise.resolve(sequence);
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
  ): Promise<T> {
    const sequence = await this.acquire(signal);
    try {
      return await work(sequence);
    } finally {
      this.release(sequence);
    }
  }
}
