import { poolReserveOf } from '../config.js';
import { poolFull } from '../host/index.js';
import type { LifecycleContext } from './context.js';

/**
 * Refuses to make something new in the storage pool (a sprite, a checkpoint) while its free
 * space is below the reserve (ADR 0024). A snapshot needs only metadata, so without this a
 * create on a full pool would succeed and hand out a sprite that cannot write a byte. What
 * frees space (deletes) and what only moves it (restore) is never refused.
 */
export async function ensureHeadroom(ctx: LifecycleContext, what: string): Promise<void> {
  const usage = await ctx.storage.usage();
  const reserveBytes = poolReserveOf(ctx.config, usage.totalBytes);
  if (usage.availableBytes >= reserveBytes) return;
  ctx.log.warn(
    { event: 'storage.full', refused: what, ...usage, reserveBytes },
    `the storage pool has ${usage.availableBytes} bytes free, below its reserve of ${reserveBytes}: refused to ${what}; grow the pool (docs/operations.md)`,
  );
  throw poolFull();
}
