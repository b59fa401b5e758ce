/**
 * Counts latency-sensitive operations in flight (creates, starts) so background work can
 * wait for a quiet moment instead of competing with them for two CPUs and the disk.
 */
export class QuietGate {
  private busy = 0;
  private waiters: (() => void)[] = [];

  constructor(private readonly settleMs = 50) {}

  async during<T>(fn: () => Promise<T>): Promise<T> {
    this.busy++;
    try {
      return await fn();
    } finally {
      this.busy--;
      // Not unref'd: shutdown awaits these, and an unref'd timer would let Node exit mid-way.
      if (this.busy === 0) setTimeout(() => this.wake(), this.settleMs);
    }
  }

  private wake(): void {
    if (this.busy > 0) return;
    for (const w of this.waiters.splice(0)) w();
  }

  /** Resolves once nothing has been in flight for `settleMs`. */
  whenQuiet(): Promise<void> {
    if (this.busy === 0) return new Promise((r) => setTimeout(r, this.settleMs));
    return new Promise((r) => this.waiters.push(r));
  }
}
