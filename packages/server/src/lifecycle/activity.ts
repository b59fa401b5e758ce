export interface IdleSettings {
  /** Quiet this long → warm (frozen, memory kept). */
  warmAfterMs: number;
  /** Quiet this long → cold (stopped, disk kept). */
  coldAfterMs: number;
}

/**
 * Knows when each sprite was last used and how many connections through the daemon are
 * open to it. A sprite counts as busy while a connection is open or a session runs in it
 * (asked of its agent before freezing); quiet ones are frozen, then stopped.
 */
export class ActivityTracker {
  private readonly lastActivity = new Map<string, number>();
  private readonly open = new Map<string, number>();

  /** `now` is the clock (ms since the epoch); tests pass their own. */
  constructor(private readonly now: () => number = Date.now) {}

  touch(spriteId: string): void {
    this.lastActivity.set(spriteId, this.now());
  }

  opened(spriteId: string): void {
    this.open.set(spriteId, (this.open.get(spriteId) ?? 0) + 1);
    this.touch(spriteId);
  }

  closed(spriteId: string): void {
    const n = (this.open.get(spriteId) ?? 1) - 1;
    if (n <= 0) this.open.delete(spriteId);
    else this.open.set(spriteId, n);
    this.touch(spriteId);
  }

  openConnections(spriteId: string): number {
    return this.open.get(spriteId) ?? 0;
  }

  /** Milliseconds since the last activity (a sprite never seen counts as active just now). */
  quietFor(spriteId: string): number {
    const last = this.lastActivity.get(spriteId);
    if (last === undefined) {
      this.touch(spriteId);
      return 0;
    }
    return this.now() - last;
  }

  /** When the sprite was last used (ms since the epoch), or undefined if this daemon has not seen it used. */
  lastActive(spriteId: string): number | undefined {
    return this.lastActivity.get(spriteId);
  }

  forget(spriteId: string): void {
    this.lastActivity.delete(spriteId);
    this.open.delete(spriteId);
  }
}
