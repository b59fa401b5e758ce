import { DeadlineError } from '../io/index.js';
import type { SpriteLifecycle } from '../lifecycle/index.js';
import type { SpriteRecord } from '../registry/index.js';
import { askAgentForTarget } from './ask-agent.js';
import { UrlError } from './errors.js';
import { TargetCache, type Target } from './target-cache.js';

/** A target, and whether its app may only now be starting (connections to it are retried a while). */
export type FoundTarget = Target & { retry: boolean };

/** What finding a target needs of the lifecycle: the current run, waking, and the agent's socket. */
export type TargetLifecycle = Pick<
  SpriteLifecycle,
  'knownRunId' | 'currentRun' | 'touch' | 'ensureRunning' | 'agentSocket'
>;

/** Where each sprite's URL traffic goes: woken and asked once, then reused for its current run. */
export class SpriteTargets {
  private readonly cache: TargetCache;

  constructor(
    private readonly lifecycle: TargetLifecycle,
    cacheMs: number,
  ) {
    this.cache = new TargetCache(cacheMs);
  }

  /**
   * Wakes the sprite and asks its agent where HTTP goes. A sprite that answered moments ago
   * is still awake (idling takes far longer), so then the last answer for its current run is
   * used as is. A stale answer fails the connection, which drops it and takes the slow path.
   */
  async find(sprite: SpriteRecord): Promise<FoundTarget> {
    const lifecycle = this.lifecycle;
    // The run id from memory when the lifecycle knows it (no registry read on the hot path).
    const runId = lifecycle.knownRunId(sprite.id) ?? (await lifecycle.currentRun(sprite.id))?.runId;
    const recent = runId ? this.cache.get(sprite.id, runId) : null;
    if (recent) {
      lifecycle.touch(sprite.id);
      return { ...recent, retry: false };
    }
    // A warm sprite thaws with its apps listening; a cold one boots, and its app needs a moment.
    const wasRunning = runId !== undefined;
    await lifecycle.ensureRunning(sprite.id);
    const now = await lifecycle.currentRun(sprite.id);
    if (!now) throw new UrlError(503, `sprite ${sprite.name} is not running; retry in a moment`);
    let answer: { port: number; started: boolean };
    try {
      answer = await askAgentForTarget(lifecycle.agentSocket(sprite.id));
    } catch (e) {
      if (e instanceof DeadlineError)
        throw new UrlError(504, `the agent of sprite ${sprite.name} did not answer in time; retry in a moment`);
      throw new UrlError(
        502,
        `the agent of sprite ${sprite.name} did not answer (${(e as Error).message}); retry in a moment`,
      );
    }
    const target: Target = { runId: now.runId, address: now.address, port: answer.port };
    this.cache.set(sprite.id, target);
    return { ...target, retry: answer.started || !wasRunning };
  }

  /** Drops a sprite's target: its app refused, its settings changed, or it is gone. */
  forget(spriteId: string): void {
    this.cache.delete(spriteId);
  }
}
