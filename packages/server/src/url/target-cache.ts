/** Where a sprite's URL traffic goes: its address on this run, and the port its agent named. */
export interface Target {
  runId: string;
  address: string;
  port: number;
}

/**
 * Recent targets by sprite id. An entry is valid only for the run it was learned on: the
 * caller checks the sprite's current run before using it, so after a stop, restart, restore
 * or delete, a request can never be sent to the address the old run held (which another
 * sprite may hold now). Bounded in entries and age.
 */
export class TargetCache {
  private readonly entries = new Map<string, Target & { at: number }>();

  constructor(
    private readonly maxAgeMs: number,
    private readonly maxEntries = 10_000,
  ) {}

  get(spriteId: string, currentRunId: string): Target | null {
    const hit = this.entries.get(spriteId);
    if (!hit) return null;
    if (hit.runId !== currentRunId || Date.now() - hit.at >= this.maxAgeMs) {
      this.entries.delete(spriteId);
      return null;
    }
    return hit;
  }

  set(spriteId: string, target: Target): void {
    if (this.entries.size >= this.maxEntries) this.entries.clear();
    this.entries.set(spriteId, { ...target, at: Date.now() });
  }

  delete(spriteId: string): void {
    this.entries.delete(spriteId);
  }
}
