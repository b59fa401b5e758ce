import { randomUUID } from 'node:crypto';
import type { SpriteConfig, URLSettings } from '@sprites/protocol';
import { crashPoint, UndoStack } from '../host/index.js';
import type { SpriteRecord } from '../registry/index.js';
import type { LifecycleContext } from './context.js';
import { startSprite } from './start.js';

export interface CreateSpriteInput {
  orgId: string;
  name: string;
  config: Required<SpriteConfig>;
  environment: Record<string, string>;
  labels: string[];
  urlSettings: URLSettings;
}

const GIB = 2 ** 30;

/**
 * Creates a sprite: registry row (the anchor), its volume cloned from the base image with
 * its disk quota, then boots it. Any failure removes all of it again, quota group and
 * checkpoint directory (made by the boot) included.
 */
export async function createSprite(
  ctx: LifecycleContext,
  input: CreateSpriteInput,
  id: string = randomUUID(),
): Promise<SpriteRecord> {
  const started = Date.now();
  await using undo = new UndoStack((err) =>
    ctx.log.error({ spriteId: id, err }, 'cleanup after a failed create did not finish'),
  );
  const record = await ctx.registry.sprites.insert({ id, ...input, status: 'cold', imageKey: ctx.imageKey });
  undo.push('remove registry row', () => ctx.registry.sprites.remove(id));
  crashPoint('create.registered');
  await ctx.locks.run(id, async () => {
    const spare = await ctx.spareVolumes.take();
    undo.push('delete volume', () => ctx.storage.deleteVolume(spare));
    await ctx.storage.renameVolume(spare, id);
    undo.push('delete volume', () => ctx.storage.deleteVolume(id));
    crashPoint('create.volume');
    const group = await ctx.storage.setQuota(id, input.config.storage_gb * GIB);
    undo.push('delete volume, quota group and checkpoint directories', () => ctx.storage.destroyVolume(id, group));
    await ctx.registry.sprites.setQuotaGroup(id, group);
    await startSprite(ctx, record);
    crashPoint('create.started');
  });
  undo.commit();
  ctx.log.info(
    { event: 'sprite.create', spriteId: id, name: input.name, outcome: 'ok', durationMs: Date.now() - started },
    'sprite created',
  );
  const created = await ctx.registry.sprites.byId(id);
  if (!created) throw new Error(`sprite ${id} disappeared during create`);
  return created;
}
