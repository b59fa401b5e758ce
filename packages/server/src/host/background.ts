/**
 * Work that may finish after the request that started it (deleting a removed sprite's
 * disk), tracked so shutdown can wait for it. Failures are reported, never thrown.
 *
 * At most `limit` tasks run at once, the rest wait in order: deleting thousands of sprites
 * must not start thousands of btrfs processes together. Every task here is one startup
 * reclaim also does (a volume, checkpoint or replaced disk without a registry row), so a
 * shutdown waits for them only up to a deadline and leaves what is left to the next start.
 */
export class BackgroundTasks {
  private readonly queue: { what: string; task: () => Promise<unknown> }[] = [];
  private readonly running = new Set<Promise<void>>();
  private stopped = false;

  constructor(
    private readonly onError: (what: string, err: unknown) => void,
    private readonly limit = 4,
  ) {}

  add(what: string, task: () => Promise<unknown>): void {
    if (this.stopped) return;
    this.queue.push({ what, task });
    this.startNext();
  }

  get pending(): number {
    return this.queue.length + this.running.size;
  }

  private startNext(): void {
    while (!this.stopped && this.running.size < this.limit) {
      const next = this.queue.shift();
      if (!next) return;
      const p: Promise<void> = next.task().then(
        () => undefined,
        (err: unknown) => this.onError(next.what, err),
      );
      this.running.add(p);
      void p.finally(() => {
        this.running.delete(p);
        this.startNext();
      });
    }
  }

  /**
   * Waits until every task has finished, or `deadlineMs` passed; then starts no more.
   * Returns how many were left (not started, or still running) for startup reclaim.
   */
  async drain(deadlineMs = 20_000): Promise<number> {
    const deadline = Date.now() + deadlineMs;
    while (this.pending > 0 && Date.now() < deadline) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.race([...this.running]),
        new Promise((r) => (timer = setTimeout(r, Math.max(0, deadline - Date.now())))),
      ]);
      clearTimeout(timer);
      if (this.running.size === 0) this.startNext();
    }
    this.stopped = true;
    const left = this.pending;
    this.queue.length = 0;
    return left;
  }
}
