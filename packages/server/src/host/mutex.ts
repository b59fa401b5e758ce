/** Serializes async work per key (one sprite's lifecycle operations never interleave). */
export class KeyedMutex {
  private tails = new Map<string, Promise<unknown>>();

  /**
   * True while work for `key` runs or waits. Checked right before `run` (with no await in
   * between) it acts as a try-lock: nothing can slip in between the two.
   */
  busy(key: string): boolean {
    return this.tails.has(key);
  }

  async run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    const current = previous.catch(() => undefined).then(fn);
    this.tails.set(key, current);
    try {
      return await current;
    } finally {
      if (this.tails.get(key) === current) this.tails.delete(key);
    }
  }
}
