import { ErrorCode, SpriteError } from '@sprites/protocol';
import { crashPoint, UndoStack } from '../host/index.js';
import type { CheckpointRecord, SpriteRecord } from '../registry/index.js';
import { freezerFile } from '../runtime/index.js';
import type { CheckpointRef, QuotaGroup, RestoreSwap } from '../storage/index.js';
import type { LifecycleContext } from './context.js';
import type { StartGate } from './admission.js';
import { restartOnNewDisk } from './restart.js';

const GIB = 1024 ** 3;

/** Progress lines of a long operation (NDJSON `info` messages). */
export type Progress = (line: string) => void;

/** Auto checkpoints kept per sprite; older ones are deleted when a new one is taken. */
export const AUTO_CHECKPOINTS_KEPT = 5;

/** Where the storage driver keeps a checkpoint: auto checkpoints apart from the browsable named ones. */
export function checkpointRef(checkpoint: Pick<CheckpointRecord, 'id' | 'isAuto'>): CheckpointRef {
  return { id: checkpoint.id, kind: checkpoint.isAuto ? 'auto' : 'named' };
}

/** The sprite's quota group, made now for a sprite from before groups existed. */
async function quotaGroup(ctx: LifecycleContext, sprite: SpriteRecord): Promise<QuotaGroup> {
  if (sprite.quotaGroup !== null) return sprite.quotaGroup;
  const group = await ctx.storage.setQuota(sprite.id, sprite.config.storage_gb * GIB);
  await ctx.registry.sprites.setQuotaGroup(sprite.id, group);
  sprite.quotaGroup = group;
  return group;
}

/**
 * Takes a snapshot of the sprite's disk. A running sprite is frozen for the instant of the
 * snapshot and its dirty data written out first, so the checkpoint is consistent; its
 * processes go on afterwards. Call under the sprite's lock.
 */
async function snapshot(
  ctx: LifecycleContext,
  sprite: SpriteRecord,
  opts: { auto: boolean; comment: string | null },
  progress: Progress,
): Promise<CheckpointRecord> {
  const group = await quotaGroup(ctx, sprite);
  const seq = await ctx.registry.checkpoints.nextSeq(sprite.id);
  const createdAt = new Date();
  // Under the sprite's lock nobody else takes this number; `record` moves the counter on.
  const version = opts.auto ? null : await ctx.registry.checkpoints.peekVersion(sprite.id);
  const id = version === null ? `auto-${createdAt.getTime()}` : `v${version}`;
  const ref = checkpointRef({ id, isAuto: opts.auto });
  const running = (await ctx.registry.runs.get(sprite.id)) !== null;
  const fresh = await ctx.registry.sprites.byId(sprite.id);
  const wasWarm = fresh?.status === 'warm';
  // A running sprite is frozen around the snapshot (a warm one already is): the helper syncs
  // first, freezes, syncs again, snapshots and thaws, so the checkpoint is consistent.
  const freezeDuring = running && !wasWarm ? freezerFile(ctx.paths.cgroupPath(sprite.id)) : undefined;
  await ctx.storage.snapshot(sprite.id, ref, { quota: group, freezeDuring });
  crashPoint(opts.auto ? 'checkpoint.auto-snapshot' : 'checkpoint.snapshot');
  const source = fresh?.currentCheckpoint ?? null;
  const parent = source ? await ctx.registry.checkpoints.get(sprite.id, source) : null;
  const record: CheckpointRecord = {
    spriteId: sprite.id,
    id,
    seq,
    isAuto: opts.auto,
    comment: opts.comment,
    sourceId: source,
    history: parent ? [parent.id, ...parent.history] : [],
    createdAt: createdAt.toISOString(),
  };
  try {
    await ctx.registry.checkpoints.record(record, version);
  } catch (e) {
    await ctx.storage.deleteCheckpoint(sprite.id, ref).catch(() => undefined);
    throw e;
  }
  crashPoint(opts.auto ? 'checkpoint.auto-recorded' : 'checkpoint.recorded');
  progress(`${opts.auto ? 'Auto checkpoint' : 'Checkpoint'} ${id} taken`);
  return record;
}

export function createCheckpoint(
  ctx: LifecycleContext,
  sprite: SpriteRecord,
  comment: string | null,
  progress: Progress,
): Promise<CheckpointRecord> {
  return ctx.locks.run(sprite.id, async () => {
    const started = Date.now();
    progress('Creating checkpoint...');
    const record = await snapshot(ctx, sprite, { auto: false, comment }, progress);
    ctx.log.info(
      {
        event: 'checkpoint.create',
        spriteId: sprite.id,
        checkpoint: record.id,
        outcome: 'ok',
        durationMs: Date.now() - started,
      },
      'checkpoint created',
    );
    return record;
  });
}

/** Keeps the newest AUTO_CHECKPOINTS_KEPT auto checkpoints. */
async function pruneAuto(ctx: LifecycleContext, sprite: SpriteRecord): Promise<void> {
  const autos = (await ctx.registry.checkpoints.list(sprite.id, { includeAuto: true })).filter((c) => c.isAuto);
  for (const old of autos.slice(AUTO_CHECKPOINTS_KEPT)) {
    await ctx.registry.checkpoints.remove(sprite.id, old.id);
    ctx.background.add(`delete auto checkpoint ${old.id} of ${sprite.id}`, () =>
      ctx.storage.deleteCheckpoint(sprite.id, checkpointRef(old)),
    );
  }
}

/**
 * Replaces the sprite's disk with a checkpoint's: an auto checkpoint of the current disk
 * first (nothing is lost by mistake), then the sprite's processes stop, the volume is
 * swapped, and the sprite boots again on it. Sessions end. All or nothing (STYLE 2.4): every
 * step registers its undo, and a sprite that cannot boot on the checkpoint gets its old disk
 * back and boots on it again. The registry's current checkpoint is the commit point startup
 * reconcile goes by after a crash (adopt.ts).
 */
export function restoreCheckpoint(
  ctx: LifecycleContext,
  sprite: SpriteRecord,
  checkpointId: string,
  progress: Progress,
  gate: StartGate,
): Promise<void> {
  return ctx.locks.run(sprite.id, async () => {
    const started = Date.now();
    const target = await ctx.registry.checkpoints.get(sprite.id, checkpointId);
    if (!target || !(await ctx.storage.hasCheckpoint(sprite.id, checkpointRef(target)))) {
      throw new SpriteError(ErrorCode.NotFound, `checkpoint ${checkpointId} not found for sprite ${sprite.name}`);
    }
    const group = await quotaGroup(ctx, sprite);
    // The sprite boots on the checkpoint: a cold one becomes live, within its organization's
    // limits (checked before any work); a live one keeps its place while it restarts.
    const ticket = (await ctx.registry.runs.get(sprite.id)) ? gate.hold(sprite) : await gate.admitStart(sprite);
    progress(`Restoring checkpoint ${checkpointId}...`);
    await using undo = new UndoStack((err) =>
      ctx.log.error(
        { spriteId: sprite.id, err },
        'cleanup after a failed restore did not finish; startup reclaim retries',
      ),
    );
    try {
      await snapshot(ctx, sprite, { auto: true, comment: `before restoring ${checkpointId}` }, progress);
      // The copy is made while the sprite still runs; only the swap happens while it is down.
      const prepared = await ctx.storage.prepareRestore(sprite.id, checkpointRef(target), group);
      undo.push('discard the prepared copy', () => prepared.discard());
      crashPoint('restore.prepared');
      progress('Restarting the sprite on the checkpoint');
      const fresh = (await ctx.registry.sprites.byId(sprite.id)) ?? sprite;
      const previous = fresh.currentCheckpoint;
      const swapped: { current?: RestoreSwap } = {};
      await restartOnNewDisk(ctx, fresh, async () => {
        const swap = await prepared.swapIn();
        swapped.current = swap;
        crashPoint('restore.swapped');
        const unswap = async () => {
          // Registry first: an old disk under a new current checkpoint is what reconcile undoes.
          await ctx.registry.sprites.setCurrentCheckpoint(sprite.id, previous);
          await swap.revert();
        };
        try {
          await ctx.registry.sprites.setCurrentCheckpoint(sprite.id, checkpointId);
          crashPoint('restore.committed');
        } catch (e) {
          await unswap();
          throw e;
        }
        return unswap;
      });
      undo.commit();
      crashPoint('restore.booted');
      const final = swapped.current;
      if (final) ctx.background.add(`delete replaced volume of ${sprite.id}`, () => final.commit());
    } catch (e) {
      ctx.log.warn(
        {
          event: 'checkpoint.restore',
          spriteId: sprite.id,
          checkpoint: checkpointId,
          outcome: 'error',
          err: e,
          durationMs: Date.now() - started,
        },
        'restore failed; the sprite keeps its disk',
      );
      throw e;
    } finally {
      ticket.release();
    }
    await pruneAuto(ctx, sprite);
    ctx.log.info(
      {
        event: 'checkpoint.restore',
        spriteId: sprite.id,
        checkpoint: checkpointId,
        outcome: 'ok',
        durationMs: Date.now() - started,
      },
      'checkpoint restored',
    );
    progress(`Restored checkpoint ${checkpointId}`);
  });
}

/** Deletes a checkpoint, except the one the disk currently descends from. */
export function deleteCheckpoint(ctx: LifecycleContext, sprite: SpriteRecord, checkpointId: string): Promise<void> {
  return ctx.locks.run(sprite.id, async () => {
    const target = await ctx.registry.checkpoints.get(sprite.id, checkpointId);
    if (!target)
      throw new SpriteError(ErrorCode.NotFound, `checkpoint ${checkpointId} not found for sprite ${sprite.name}`);
    const fresh = await ctx.registry.sprites.byId(sprite.id);
    if (fresh?.currentCheckpoint === checkpointId) {
      throw new SpriteError(
        ErrorCode.Conflict,
        `checkpoint ${checkpointId} is the one the sprite's disk descends from; it cannot be deleted`,
      );
    }
    await ctx.registry.checkpoints.remove(sprite.id, checkpointId);
    await ctx.storage.deleteCheckpoint(sprite.id, checkpointRef(target));
  });
}
