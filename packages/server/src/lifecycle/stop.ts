import { rm } from 'node:fs/promises';
import { crashPoint, runAll, unmount, unmountAll } from '../host/index.js';
import type { RunRecord, SpriteRecord } from '../registry/index.js';
import { setFrozen } from '../runtime/index.js';
import type { LifecycleContext } from './context.js';

const GRACE_MS = 2_000;

/**
 * Stops a sprite's container and releases every host resource of its run, in reverse order
 * of acquisition; the disk stays. Tolerates half-started or half-stopped runs. Call under
 * the sprite's lock.
 */
export async function stopSprite(
  ctx: LifecycleContext,
  sprite: Pick<SpriteRecord, 'id'>,
  reason: string,
  opts: { graceful?: boolean } = {},
): Promise<void> {
  const started = Date.now();
  const runRecord = await ctx.registry.runs.get(sprite.id);
  await releaseRun(ctx, sprite.id, runRecord, opts.graceful ?? true);
  crashPoint('stop.released');
  if (runRecord) await ctx.registry.runs.remove(sprite.id, runRecord.runId);
  ctx.activity.forget(sprite.id);
  if (await ctx.registry.sprites.byId(sprite.id)) await ctx.registry.sprites.setStatus(sprite.id, 'cold');
  ctx.log.info(
    { event: 'sprite.stop', spriteId: sprite.id, reason, outcome: 'ok', durationMs: Date.now() - started },
    'sprite stopped',
  );
}

/**
 * A warm (frozen) sprite goes cold: thawed first so the stop's signals are delivered at once,
 * then stopped without a grace period (it was idle). Call under the sprite's lock.
 */
export async function coolDown(ctx: LifecycleContext, spriteId: string, reason: string): Promise<void> {
  await setFrozen(ctx.paths.cgroupPath(spriteId), false);
  await stopSprite(ctx, { id: spriteId }, reason, { graceful: false });
}

/** The release steps shared by stop, failed adoption and reclaim. */
export async function releaseRun(
  ctx: LifecycleContext,
  spriteId: string,
  runRecord: RunRecord | null,
  graceful: boolean,
): Promise<void> {
  const { paths } = ctx;
  const containerId = paths.containerId(spriteId);
  ctx.watch.stopped(spriteId);
  await runAll(`stop sprite ${spriteId}`, [
    [
      'stop container',
      async () => (
        await stopContainer(ctx, containerId, ctx.paths.cgroupPath(spriteId), graceful),
        crashPoint('stop.container')
      ),
    ],
    ['unmount checkpoint views', () => unmountAll(paths.checkpointsView(spriteId))],
    ['unmount rootfs', () => unmount(paths.rootfs(spriteId))],
    ['lift network policy', () => ctx.policy?.detach(spriteId)],
    // Each claim is given back only once its resource is seen gone (else kept and retried).
    [
      'retire network slot',
      async () =>
        runRecord ? (await ctx.allocator.retireNetwork(runRecord.netSlot), crashPoint('stop.network')) : undefined,
    ],
    ['retire id range', () => (runRecord ? ctx.allocator.retireIds(runRecord.idSlot, spriteId) : undefined)],
    ['remove run dir', () => rm(paths.runDir(spriteId), { recursive: true, force: true })],
  ]);
}

export async function stopContainer(
  ctx: LifecycleContext,
  containerId: string,
  cgroupPath: string,
  graceful: boolean,
): Promise<void> {
  const state = await ctx.runtime.state(containerId);
  if (!state) return;
  // A frozen (warm) sprite cannot act on signals: thaw it first.
  if (state.status === 'paused') await setFrozen(cgroupPath, false);
  if (graceful && (state.status === 'running' || state.status === 'paused')) {
    await ctx.runtime.kill(containerId, 'SIGTERM').catch(() => undefined);
    const deadline = Date.now() + GRACE_MS;
    while (Date.now() < deadline) {
      const s = await ctx.runtime.state(containerId);
      if (!s || s.status === 'stopped') break;
      await new Promise((r) => setTimeout(r, 25));
    }
  }
  await ctx.runtime.delete(containerId);
}
