/**
 * What one sprite, and all sprites together, may hold in the DNS proxy (DESIGN §5.5). Every
 * figure is in docs/operations.md, "Bounds and deadlines"; ADR 0017 says why these.
 */
export interface DnsBounds {
  /** Open TCP connections per sprite; one over the cap is closed as soon as it is accepted. */
  tcpPerSource: number;
  /** Open TCP connections of all sprites together. */
  tcpTotal: number;
  /** A TCP connection with no complete query for this long is closed. */
  tcpIdleMs: number;
  /** A TCP connection is closed this long after it opened, busy or not. */
  tcpLifetimeMs: number;
  /** Queries one TCP connection may carry; then it is closed (the client reconnects). */
  tcpQueriesPerConnection: number;
  /** Queries of one TCP connection answered at once; reading waits while they are. */
  tcpInFlightPerConnection: number;
  /** Bytes read but not yet handled, or written but not yet taken, per TCP connection. */
  tcpBufferBytes: number;
  /** Queries of one sprite being answered at once (UDP and TCP); more get no answer (UDP) or SERVFAIL (TCP). */
  queriesPerSource: number;
  /** Queries of all sprites being answered at once. */
  queriesTotal: number;
}

export const DNS_BOUNDS: Readonly<DnsBounds> = {
  tcpPerSource: 16,
  tcpTotal: 512,
  tcpIdleMs: 10_000,
  tcpLifetimeMs: 60_000,
  tcpQueriesPerConnection: 100,
  tcpInFlightPerConnection: 4,
  tcpBufferBytes: 192 * 1024,
  queriesPerSource: 64,
  queriesTotal: 1024,
};

/** Counts holders per key under a per-key and a total cap (connections, queries in flight). */
export class KeyedCounter {
  private readonly counts = new Map<string, number>();
  private sum = 0;

  constructor(
    private readonly perKey: number,
    private readonly total: number,
  ) {}

  /** Takes one for `key` if both caps allow it; false means refused (nothing was taken). */
  tryAcquire(key: string): boolean {
    const held = this.counts.get(key) ?? 0;
    if (held >= this.perKey || this.sum >= this.total) return false;
    this.counts.set(key, held + 1);
    this.sum++;
    return true;
  }

  /** Gives back one taken by a successful tryAcquire. */
  release(key: string): void {
    const held = this.counts.get(key) ?? 0;
    if (held <= 0) return;
    if (held === 1) this.counts.delete(key);
    else this.counts.set(key, held - 1);
    this.sum--;
  }

  held(key?: string): number {
    return key === undefined ? this.sum : (this.counts.get(key) ?? 0);
  }
}
