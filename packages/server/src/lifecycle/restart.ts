import { helperPath, run, unmount } from '../host/index.js';
import type { SpriteRecord } from '../registry/index.js';
import { waitForAgent } from './agent-client.js';
import type { LifecycleContext } from './context.js';
import { hostIdBase, ID_RANGE_SIZE } from './paths.js';
import { AGENT_READY_TIMEOUT_MS, startSprite } from './start.js';
import { releaseRun, stopContainer } from './stop.js';

/**
 * Boots a sprite again on a replaced disk. A running sprite keeps its run (network slot, id
 * range, run dir, bundle): its container and mounts go, `swap` replaces the volume while
 * nothing holds it, then the root filesystem is mounted again and the same bundle starts.
 * That skips what a full stop and start would redo. On a failure the run is released and,
 * if the disk was not swapped yet, the sprite boots on its old disk. Call under the lock.
 */
export async function restartOnNewDisk(ctx: LifecycleContext, sprite: SpriteRecord, swap: () => Promise<void>): Promise<void> {
  const { paths } = ctx;
  const runRecord = await ctx.registry.runs.get(sprite.id);
  if (!runRecord) {
    await swap();
    await startSprite(ctx, sprite);
    return;
  }
  let swapped = false;
  try {
    const containerId = paths.containerId(sprite.id);
    await stopContainer(ctx, containerId, paths.cgroupPath(sprite.id), false);
    await unmount(paths.rootfs(sprite.id));
    await swap();
    swapped = true;
    await run(helperPath(), ['idmap', ctx.storage.volumePath(sprite.id), paths.rootfs(sprite.id), String(hostIdBase(runRecord.idSlot)), String(ID_RANGE_SIZE)]);
    await ctx.runtime.start(containerId, paths.runDir(sprite.id), { agentSocket: paths.agentSocket(sprite.id), consoleLog: paths.consoleLog(sprite.id) });
    await waitForAgent(paths.agentSocket(sprite.id), AGENT_READY_TIMEOUT_MS);
    await ctx.registry.sprites.setStatus(sprite.id, 'running');
  } catch (e) {
    await releaseRun(ctx, sprite.id, runRecord, false).catch(() => undefined);
    await ctx.registry.runs.remove(sprite.id, runRecord.runId).catch(() => undefined);
    await ctx.registry.sprites.setStatus(sprite.id, 'cold').catch(() => undefined);
    if (!swapped) await startSprite(ctx, sprite).catch(() => undefined);
    throw e;
  }
}
