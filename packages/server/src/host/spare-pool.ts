/**
 * A small pool of ready-made resources (pre-cloned volumes, pre-built network namespaces)
 * so the slow part of making one is off the create path. `take()` hands out a spare if one
 * is ready and otherwise makes one on the spot; either way a refill starts in the background.
 * `close()` waits for refills in flight and discards every spare, so nothing outlives it.
 */
export class SparePool<T> {
  private spares: T[] = [];
  private filling: Promise<void> | null = null;
  private closed = false;

  constructor(
    private readonly size: number,
    private readonly make: () => Promise<T>,
    private readonly discard: (item: T) => Promise<void>,
    private readonly onError: (err: unknown) => void,
    /** Resolves when no latency-sensitive work runs: refills wait for it, so they never slow a create. */
    private readonly whenQuiet: () => Promise<void> = () => Promise.resolve(),
  ) {}

  async take(): Promise<T> {
    const ready = this.spares.shift();
    this.refill();
    return ready ?? this.make();
  }

  /** A spare if one is ready (a refill starts either way), or null without making one. */
  takeReady(): T | null {
    const ready = this.spares.shift() ?? null;
    this.refill();
    return ready;
  }

  /** Starts filling up to the target size unless a fill is already running. */
  refill(): void {
    if (this.closed || this.filling || this.size <= 0) return;
    this.filling = (async () => {
      while (!this.closed && this.spares.length < this.size) {
        await this.whenQuiet();
        if (this.closed) return;
        try {
          const item = await this.make();
          if (this.closed) await this.discard(item);
          else this.spares.push(item);
        } catch (err) {
          this.onError(err);
          return;
        }
      }
    })().finally(() => {
      this.filling = null;
    });
  }

  get ready(): number {
    return this.spares.length;
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.filling;
    const items = this.spares.splice(0);
    for (const item of items) await this.discard(item).catch(this.onError);
  }
}
