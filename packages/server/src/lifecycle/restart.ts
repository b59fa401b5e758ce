import { crashPoint, helperPath, run, unmount } from '../host/index.js';
import type { SpriteRecord } from '../registry/index.js';
import { waitForAgent } from './agent-client.js';
import type { LifecycleContext } from './context.js';
import { hostIdBase, ID_RANGE_SIZE } from './paths.js';
import { AGENT_READY_TIMEOUT_MS, startSprite } from './start.js';
import { releaseRun, stopContainer } from './stop.js';

/** Replaces the sprite's volume while nothing holds it; resolves to what puts the old one back. */
export type DiskSwap = () => Promise<() => Promise<void>>;

/**
 * Boots a sprite again on a replaced disk. A running sprite keeps its run (network slot, id
 * range, run dir, bundle): its container and mounts go, `swap` replaces the volume while
 * nothing holds it, then the root filesystem is mounted again and the same bundle starts.
 * That skips what a full stop and start would redo.
 *
 * All or nothing: if the sprite cannot boot on the new disk, the run is released, the swap
 * undone, and the sprite boots again on its old disk if it was running (a cold one stays
 * cold); then the error is thrown. Call under the sprite's lock.
 */
export async function restartOnNewDisk(ctx: LifecycleContext, sprite: SpriteRecord, swap: DiskSwap): Promise<void> {
  const { paths } = ctx;
  const runRecord = await ctx.registry.runs.get(sprite.id);
  let unswap: (() => Promise<void>) | null = null;
  try {
    if (!runRecord) {
      unswap = await swap();
      await startSprite(ctx, sprite);
      return;
    }
    const containerId = paths.containerId(sprite.id);
    await stopContainer(ctx, containerId, paths.cgroupPath(sprite.id), false);
    await unmount(paths.rootfs(sprite.id));
    crashPoint('restart.stopped');
    unswap = await swap();
    await run(helperPath(), [
      'idmap',
      ctx.storage.volumePath(sprite.id),
      paths.rootfs(sprite.id),
      String(hostIdBase(runRecord.idSlot)),
      String(ID_RANGE_SIZE),
    ]);
    await ctx.runtime.start(containerId, paths.runDir(sprite.id), {
      agentSocket: paths.agentSocket(sprite.id),
      consoleLog: paths.consoleLog(sprite.id),
    });
    await waitForAgent(paths.agentSocket(sprite.id), AGENT_READY_TIMEOUT_MS);
    ctx.watch.started(sprite.id, runRecord.runId, await ctx.runtime.state(containerId));
    await ctx.registry.sprites.setStatus(sprite.id, 'running');
  } catch (e) {
    if (runRecord) {
      await releaseRun(ctx, sprite.id, runRecord, false).catch((err: unknown) =>
        ctx.log.error({ spriteId: sprite.id, err }, 'releasing the run after a failed restart did not finish'),
      );
      await ctx.registry.runs.remove(sprite.id, runRecord.runId).catch(() => undefined);
      await ctx.registry.sprites.setStatus(sprite.id, 'cold').catch(() => undefined);
    }
    if (unswap) {
      try {
        await unswap();
      } catch (err) {
        // The sprite keeps the new disk; startup reconcile finishes putting the old one back.
        ctx.log.error({ spriteId: sprite.id, err }, 'could not put the old disk back after a failed restart');
        throw e;
      }
    }
    if (runRecord) {
      await startSprite(ctx, sprite).catch((err: unknown) =>
        ctx.log.error(
          { spriteId: sprite.id, err },
          'the sprite did not boot again on its old disk; the next request retries',
        ),
      );
    }
    throw e;
  }
}
