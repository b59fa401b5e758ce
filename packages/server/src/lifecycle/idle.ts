import { spritePath, type SpriteStatus } from '@sprites/protocol';
import { forEachLimited } from '../host/index.js';
import type { Logger } from '../log.js';
import type { ActivityTracker, IdleSettings } from './activity.js';
import { agentRequest } from './agent-client.js';

/** What one pass of the idle policy reads and does; the lifecycle gives the real ones, tests fakes. */
export interface IdleSweepDeps {
  activity: ActivityTracker;
  idle: IdleSettings;
  /** Idle transitions (a freeze, a stop) worked on at once. */
  parallel: number;
  log: Pick<Logger, 'warn'>;
  /** Serializes work on one sprite with its other operations. */
  locked(spriteId: string, fn: () => Promise<void>): Promise<void>;
  /** Sprites that have a run (running or warm). */
  liveSprites(): Promise<string[]>;
  status(spriteId: string): Promise<SpriteStatus | null>;
  /** Runs whose container exited on its own (each is released once, under the lock). */
  deadRuns(): { spriteId: string; runId: string }[];
  isDead(spriteId: string): boolean;
  currentRunId(spriteId: string): Promise<string | null>;
  /** Releases the run of a sprite whose container exited. */
  stopDead(spriteId: string): Promise<void>;
  /** True while a session runs in the sprite (a quiet long command keeps it up). */
  hasRunningSession(spriteId: string): Promise<boolean>;
  /** running → warm, recorded. */
  freeze(spriteId: string, quietMs: number): Promise<void>;
  /** warm → cold. */
  coolDown(spriteId: string): Promise<void>;
}

/**
 * One pass of the idle policy. Runs whose container died are released first. Then sprites
 * quiet for `warmAfterMs` (no open connection, no running session) are frozen, and warm
 * ones quiet for `coldAfterMs` are stopped, `parallel` at once; a failure is logged and
 * retried on the next pass. Every decision is checked again under the sprite's lock.
 */
export async function sweepIdle(deps: IdleSweepDeps): Promise<void> {
  const { activity, idle } = deps;
  for (const { spriteId, runId } of deps.deadRuns()) {
    await deps
      .locked(spriteId, async () => {
        // Under the lock: the run may have been stopped or replaced meanwhile.
        if ((await deps.currentRunId(spriteId)) === runId && deps.isDead(spriteId)) await deps.stopDead(spriteId);
      })
      .catch((err: unknown) =>
        deps.log.warn({ spriteId, err }, 'releasing a dead container failed; retrying on the next pass'),
      );
  }
  // Side by side: with thousands of sprites going idle together a one-by-one pass fell
  // behind (each stop takes a second or more on a loaded host), and sprites stayed warm,
  // holding memory, long past their cold time.
  const quiet = (id: string) => activity.openConnections(id) === 0 && activity.quietFor(id) >= idle.warmAfterMs;
  const candidates = (await deps.liveSprites()).filter(quiet);
  await forEachLimited(candidates, deps.parallel, async (id) => {
    const quietMs = activity.quietFor(id);
    await deps
      .locked(id, async () => {
        if (!quiet(id)) return;
        const status = await deps.status(id);
        if (status === 'running') {
          if (await deps.hasRunningSession(id)) return activity.touch(id);
          await deps.freeze(id, quietMs);
        } else if (status === 'warm' && activity.quietFor(id) >= idle.coldAfterMs) {
          await deps.coolDown(id);
        }
      })
      .catch((err: unknown) =>
        deps.log.warn({ spriteId: id, err }, 'idle transition failed; retrying on the next pass'),
      );
  });
}

/** True when the agent at `agentSocket` reports a running session. */
export async function hasRunningSession(agentSocket: string): Promise<boolean> {
  try {
    // The agent serves its one sprite whatever the name segment says.
    const res = await agentRequest(agentSocket, 'GET', spritePath('exec', { name: '-' }), {
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
