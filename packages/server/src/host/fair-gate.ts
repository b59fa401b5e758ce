/**
 * At most `limit` operations at once; callers beyond that wait in one queue per key (an
 * organization) and are let in round-robin across keys. A tenant who fires a thousand
 * creates queues behind itself, not in front of everyone else, and the host never works on
 * more than `limit` of them at a time (each one costs CPU, memory and disk while it runs).
 */
export class FairGate {
  private running = 0;
  /** Waiting callers by key; Map order is the round-robin order (a served key moves last). */
  private readonly queues = new Map<string, (() => void)[]>();

  constructor(private readonly limit: number) {
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`a gate needs a limit of at least 1, not ${limit}`);
  }

  async run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    if (this.running < this.limit && this.queues.size === 0) this.running++;
    else {
      await new Promise<void>((admit) => {
        const queue = this.queues.get(key);
        if (queue) queue.push(admit);
        else this.queues.set(key, [admit]);
      });
    }
    try {
      return await fn();
    } finally {
      this.running--;
      this.admitNext();
    }
  }

  /** Callers waiting to get in. */
  get waiting(): number {
    let n = 0;
    for (const q of this.queues.values()) n += q.length;
    return n;
  }

  get active(): number {
    return this.running;
  }

  private admitNext(): void {
    while (this.running < this.limit) {
      const first = this.queues.entries().next();
      if (first.done) return;
      const [key, queue] = first.value;
      const admit = queue.shift();
      this.queues.delete(key);
      if (queue.length > 0) this.queues.set(key, queue);
      if (!admit) continue;
      // Counted here, for the caller: nobody can slip in between.
      this.running++;
      admit();
    }
  }
}
