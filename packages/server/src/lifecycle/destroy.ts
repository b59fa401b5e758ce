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
    const trash = `trash-${sprite.id}`;
    const hasDisk = await ctx.storage.hasVolume(sprite.id);
    if (hasDisk) await ctx.storage.renameVolume(sprite.id, trash);
    crashPoint('delete.renamed');
    await ctx.registry.checkpoints.removeAll(sprite.id);
    await ctx.registry.sprites.remove(sprite.id);
    crashPoint('delete.unregistered');
    ctx.background.add(`delete disk and checkpoints of ${sprite.id}`, async () => {
      crashPoint('delete.background');
      if (hasDisk) await ctx.storage.deleteVolume(trash);
      await ctx.storage.deleteCheckpoints(sprite.id, sprite.quotaGroup);
    });
  });
  ctx.log.info({ event: 'sprite.delete', spriteId: sprite.id, outcome: 'ok', durationMs: Date.now() - started }, 'sprite deleted');
}
