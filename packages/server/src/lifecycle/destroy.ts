import type { SpriteRecord } from '../registry/index.js';
import type { LifecycleContext } from './context.js';
import { stopSprite } from './stop.js';

/** Removes every trace of a sprite: its run (container, network, mounts), its disk, its row. */
export async function destroySprite(ctx: LifecycleContext, sprite: SpriteRecord): Promise<void> {
  const started = Date.now();
  await ctx.locks.run(sprite.id, async () => {
    await stopSprite(ctx, sprite, 'delete');
    await ctx.storage.deleteVolume(sprite.id);
    await ctx.registry.sprites.remove(sprite.id);
  });
  ctx.log.info({ event: 'sprite.delete', spriteId: sprite.id, outcome: 'ok', durationMs: Date.now() - started }, 'sprite deleted');
}
