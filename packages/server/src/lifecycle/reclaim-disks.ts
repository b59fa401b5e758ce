import type { ReclaimState } from './reclaim-step.js';

/** Startup reconcile of the storage pool with the registry: the registry says which sprites exist. */

/**
 * A restore swaps volumes and then records the checkpoint in the registry, its commit point
 * (ADR 0019): the storage driver keeps a restore that reached it and undoes one that did
 * not. A sprite left without a disk and nothing to restore one from is a create cut off
 * between its registry row and its volume: never acknowledged, it goes entirely.
 */
export async function settleRestores({ ctx, summary, count }: ReclaimState): Promise<void> {
  const { registry, storage } = ctx;
  const sprites = await registry.sprites.all();
  const settled = await storage.settleRestores(new Map(sprites.map((s) => [s.id, s.currentCheckpoint])));
  if (settled.finished.length > 0) count('restores finished', settled.finished.length);
  if (settled.undone.length > 0) count('restores undone', settled.undone.length);
  const volumes = new Set(await storage.listVolumes());
  for (const sprite of sprites) {
    if (volumes.has(sprite.id)) continue;
    if ((await registry.checkpoints.list(sprite.id, { includeAuto: true })).length === 0) {
      await registry.sprites.remove(sprite.id);
      count('half-made creates');
    } else {
      summary.errors.push(`sprite ${sprite.id} has no disk; restore one of its checkpoints`);
    }
  }
}

/** Checkpoints of sprites that are gone, and checkpoints the registry never recorded. */
export async function reconcileCheckpoints({ ctx, count }: ReclaimState): Promise<void> {
  const { registry, storage } = ctx;
  const known = new Set((await registry.sprites.all()).map((s) => s.id));
  for (const [volume, checkpoints] of await storage.listCheckpoints()) {
    if (!known.has(volume)) {
      await storage.destroyVolume(volume, null);
      count('checkpoints');
      continue;
    }
    const rows = new Set((await registry.checkpoints.list(volume, { includeAuto: true })).map((c) => c.id));
    for (const checkpoint of checkpoints) {
      if (rows.has(checkpoint.id)) continue;
      await storage.deleteCheckpoint(volume, checkpoint);
      count('checkpoints');
    }
  }
}

/** Volumes of no sprite (deleted, spares of the last run), and the storage driver's scratch. */
export async function reconcileVolumes({ ctx, count }: ReclaimState): Promise<void> {
  const { registry, storage } = ctx;
  const known = new Set((await registry.sprites.all()).map((s) => s.id));
  for (const volume of await storage.listVolumes()) {
    if (known.has(volume)) continue;
    await storage.deleteVolume(volume);
    count('volumes');
  }
  const scratch = await storage.reclaimScratch();
  if (scratch > 0) count('volumes', scratch);
}
