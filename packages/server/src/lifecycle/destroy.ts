import { crashPoint } from '../host/index.js';
import type { SpriteRecord } from '../registry/index.js';
import type { LifecycleContext } from './context.js';
import { stopSprite } from './stop.js';

/** Removes every trace of a sprite: its run (container, network, mounts), its disk, its row. */
export async function destroySprite(ctx: LifecycleContext, sprite: SpriteRecord): Promise<void> {
  const started = Date.now();
  await ctx.locks.run(sprite.id, async () => {
    await stopSprite(ctx, sprite, 'delete', { graceful: false });
    crashPoint('delete.stopped');
    // The disk leaves the sprite's name at once and is freed in the background; a crash before
    // that finishes leaves a volume without a registry row, which startup reclaim deletes.
    let freeDisk: () => Promise<void>;
    try {
      freeDisk = await ctx.storage.retireVolume(sprite.id, sprite.quotaGroup);
    } catch (e) {
      // A pool out of metadata space refuses a rename but still deletes (btrfs keeps a
      // reserve for that; ADR 0024): the disk goes now, in place, and the delete succeeds.
      if ((e as NodeJS.ErrnoException).code !== 'ENOSPC') throw e;
      ctx.log.warn(
        { event: 'storage.full', spriteId: sprite.id },
        "the storage pool is full: deleting the sprite's disk before answering",
      );
      await ctx.storage.deleteVolume(sprite.id);
      freeDisk = () => ctx.storage.destroyVolume(sprite.id, sprite.quotaGroup);
    }
    crashPoint('delete.renamed');
    await ctx.registry.checkpoints.removeAll(sprite.id);
    await ctx.registry.sprites.remove(sprite.id);
    crashPoint('delete.unregistered');
    ctx.background.add(`delete disk and checkpoints of ${sprite.id}`, async () => {
      crashPoint('delete.background');
      await freeDisk();
    });
  });
  ctx.log.info(
    { event: 'sprite.delete', spriteId: sprite.id, outcome: 'ok', durationMs: Date.now() - started },
    'sprite deleted',
  );
}
