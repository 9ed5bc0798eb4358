// A bound on how many of the demo's training jobs (child processes, one core each) run at once. Written
// here rather than taken from p-limit: no dependency of cai offers it, and it is fifteen lines.

/** At most `size` jobs at once, started in the order they asked. */
export class JobSlots {
  private free: number;
  private readonly waiting: Array<() => void> = [];

  constructor(size: number) {
    this.free = size;
  }

  async run<T>(job: () => Promise<T>): Promise<T> {
    if (this.free > 0) this.free -= 1;
    else await new Promise<void>((resolve) => this.waiting.push(resolve));
    try {
      return await job();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.free += 1;
    }
  }
}
