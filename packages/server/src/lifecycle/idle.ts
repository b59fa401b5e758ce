import { agentRequest } from './agent-client.js';
import type { LifecycleContext } from './context.js';

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

  touch(spriteId: string): void {
    this.lastActivity.set(spriteId, Date.now());
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
    return Date.now() - last;
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

/** True when the agent reports a running session (a quiet long command keeps the sprite up). */
export async function hasRunningSession(ctx: LifecycleContext, spriteId: string): Promise<boolean> {
  try {
    const res = await agentRequest(ctx.paths.agentSocket(spriteId), 'GET', '/v1/sprites/-/exec', {
      timeoutMs: 2000,
      maxBytes: 256 * 1024,
    });
    if (res.status !== 200) return false;
    const body = JSON.parse(res.body) as { sessions?: { is_active?: boolean }[] };
    return (body.sessions ?? []).some((s) => s.is_active === true);
  } catch {
    // An agent that does not answer cannot be running anything useful; let it idle.
    return false;
  }
}
