import { readdir, rm } from 'node:fs/promises';
import { errorText, mountsUnder, unmount } from '../host/index.js';
import { listChildCgroups, removeCgroupTree } from '../runtime/index.js';
import { RESTORE_OLD_PREFIX } from '../storage/index.js';
import type { LifecycleContext } from './context.js';
import { hostIdBase } from './paths.js';
import { closeRunDir } from './start.js';
import { releaseRun } from './stop.js';

export interface ReclaimSummary {
  adopted: number;
  stoppedStale: number;
  reclaimed: Record<string, number>;
  errors: string[];
}

/**
 * Live restore and crash recovery, run once at startup before the API opens.
 * 1. Re-adopt every sprite whose container still runs with its network and root filesystem.
 * 2. Release whatever else this instance left on the host, in order: containers, mounts,
 *    network, cgroups, claims, run dirs, orphan volumes. Each step is best effort.
 */
export async function adoptAndReclaim(ctx: LifecycleContext): Promise<ReclaimSummary> {
  const summary: ReclaimSummary = { adopted: 0, stoppedStale: 0, reclaimed: {}, errors: [] };
  const count = (what: string) => (summary.reclaimed[what] = (summary.reclaimed[what] ?? 0) + 1);
  const attempt = async (what: string, fn: () => Promise<unknown>) => {
    try {
      await fn();
    } catch (e) {
      summary.errors.push(`${what}: ${errorText(e)}`);
    }
  };
  const { paths, registry } = ctx;
  const adopted = new Set<string>();
  const liveNetSlots = new Set<number>();
  const liveIdSlots = new Set<number>();

  // Read once for all runs: a thousand sprites are re-adopted in seconds, not a spawn each.
  const states = await ctx.runtime.states(paths.containerPrefix);
  const mounted = new Set(await mountsUnder(paths.runRoot));
  const netns = new Set(await ctx.slots.listIndexes());
  for (const runRecord of await registry.runs.all()) {
    const sprite = await registry.sprites.byId(runRecord.spriteId);
    const state = states.get(paths.containerId(runRecord.spriteId)) ?? null;
    const healthy =
      sprite !== null &&
      state !== null &&
      (state.status === 'running' || state.status === 'paused') &&
      netns.has(runRecord.netSlot) &&
      mounted.has(paths.rootfs(runRecord.spriteId)) &&
      (await ctx.allocator.adopt(runRecord.netSlot, runRecord.idSlot, runRecord.spriteId));
    if (healthy) {
      adopted.add(runRecord.spriteId);
      ctx.watch.started(runRecord.spriteId, runRecord.runId, state);
      // A run an older daemon started may have an open run dir.
      await attempt(`close run dir of ${runRecord.spriteId}`, () =>
        closeRunDir(paths.runDir(runRecord.spriteId), hostIdBase(runRecord.idSlot)),
      );
      liveNetSlots.add(runRecord.netSlot);
      liveIdSlots.add(runRecord.idSlot);
      await registry.sprites.setStatus(runRecord.spriteId, state.status === 'paused' ? 'warm' : 'running');
      summary.adopted++;
      continue;
    }
    await attempt(`release stale run of ${runRecord.spriteId}`, async () => {
      await releaseRun(ctx, runRecord.spriteId, runRecord, false);
      await registry.runs.remove(runRecord.spriteId, runRecord.runId);
      if (sprite) await registry.sprites.setStatus(runRecord.spriteId, 'cold');
      summary.stoppedStale++;
    });
  }
  // Sprites recorded as up without a run are cold now.
  for (const sprite of await registry.sprites.all()) {
    if (sprite.status !== 'cold' && !adopted.has(sprite.id)) await registry.sprites.setStatus(sprite.id, 'cold');
  }

  await attempt('containers', async () => {
    for (const id of await ctx.runtime.list(paths.containerPrefix)) {
      if (adopted.has(id.slice(paths.containerPrefix.length))) continue;
      await ctx.runtime.delete(id);
      count('containers');
    }
  });
  await attempt('mounts', async () => {
    for (const target of await mountsUnder(paths.runRoot)) {
      const spriteId = target.slice(paths.runRoot.length + 1).split('/')[0] ?? '';
      if (adopted.has(spriteId)) continue;
      await unmount(target);
      count('mounts');
    }
  });
  await attempt('network namespaces', async () => {
    for (const index of await ctx.slots.listIndexes()) {
      if (liveNetSlots.has(index)) continue;
      await ctx.slots.destroy(index);
      count('netns');
    }
    const liveVeths = new Set([...liveNetSlots].map((i) => ctx.slots.describe(i).hostVeth));
    for (const veth of await ctx.slots.strayVeths()) {
      if (liveVeths.has(veth)) continue;
      await ctx.slots.deleteLink(veth);
      count('veth');
    }
  });
  await attempt('cgroups', async () => {
    for (const child of await listChildCgroups(paths.cgroupParent)) {
      if (adopted.has(child)) continue;
      const { removed } = await removeCgroupTree(`${paths.cgroupParent}/${child}`);
      if (removed > 0) count('cgroups');
    }
  });
  await attempt('claims', async () => {
    const stale = await ctx.allocator.removeStalePending();
    if (stale > 0) summary.reclaimed['pending claims'] = stale;
    // Given back one by one, each only once its resource is seen gone (ADR 0022).
    for (const { index } of await ctx.allocator.heldNetworks()) {
      if (liveNetSlots.has(index)) continue;
      await attempt(
        `network slot ${index}`,
        async () => (await ctx.allocator.retireNetwork(index), count('net claims')),
      );
    }
    for (const { index, owner } of await ctx.allocator.heldIdRanges()) {
      if (liveIdSlots.has(index)) continue;
      await attempt(`id range ${index}`, async () => (await ctx.allocator.retireIds(index, owner), count('id claims')));
    }
  });
  await attempt('run dirs', async () => {
    for (const name of await readdir(paths.runRoot).catch(() => [] as string[])) {
      if (adopted.has(name)) continue;
      await rm(paths.runDir(name), { recursive: true, force: true });
      count('run dirs');
    }
  });
  // A restore swaps volumes by two renames and then records the checkpoint in the registry,
  // its commit point (ADR 0019). The replaced volume is `.restore-old-<id>-<checkpoint>`
  // until the restore is final: if the registry names that checkpoint and the sprite has a
  // volume, the restore finished and the old one goes; otherwise the old one is put back.
  await attempt('half-done restores', async () => {
    const names = await ctx.storage.listVolumes('');
    for (const sprite of await registry.sprites.all()) {
      const prefix = `${RESTORE_OLD_PREFIX}${sprite.id}-`;
      const old = names.find((n) => n.startsWith(prefix));
      const live = names.includes(sprite.id);
      if (old) {
        if (live && sprite.currentCheckpoint === old.slice(prefix.length)) {
          await ctx.storage.deleteVolume(old);
          count('restores finished');
        } else {
          await ctx.storage.undoRestoreSwap(sprite.id, old);
          count('restores undone');
        }
        continue;
      }
      if (live) continue;
      // Names an older daemon used: the replaced volume as trash-<id>-<time>, the copy as .restore-<id>.
      const legacy = names
        .filter((n) => n.startsWith(`trash-${sprite.id}-`))
        .sort()
        .at(-1);
      const incoming = `.restore-${sprite.id}`;
      if (legacy) {
        await ctx.storage.renameVolume(legacy, sprite.id);
        count('restores undone');
      } else if (names.includes(incoming)) {
        await ctx.storage.renameVolume(incoming, sprite.id);
        count('restores finished');
      } else if ((await registry.checkpoints.list(sprite.id, { includeAuto: true })).length === 0) {
        // A row without a disk and with nothing to restore one from: a create cut off between
        // its registry row and its volume. It was never acknowledged; it goes entirely.
        await registry.sprites.remove(sprite.id);
        count('half-made creates');
      } else {
        summary.errors.push(`sprite ${sprite.id} has no disk; restore one of its checkpoints`);
      }
    }
  });
  await attempt('checkpoints', async () => {
    const known = new Map((await registry.sprites.all()).map((s) => [s.id, s]));
    for (const [volume, snapshots] of await ctx.storage.listCheckpoints()) {
      const sprite = known.get(volume);
      if (!sprite) {
        await ctx.storage.deleteCheckpoints(volume, null);
        count('checkpoints');
        continue;
      }
      const rows = new Set((await registry.checkpoints.list(volume, { includeAuto: true })).map((c) => c.id));
      for (const snap of snapshots) {
        if (rows.has(snap)) continue;
        await ctx.storage.deleteCheckpoint(volume, snap);
        count('checkpoints');
      }
    }
  });
  await attempt('volumes', async () => {
    const known = new Set((await registry.sprites.all()).map((s) => s.id));
    for (const volume of await ctx.storage.listVolumes('')) {
      if (known.has(volume)) continue;
      await ctx.storage.deleteVolume(volume);
      count('volumes');
    }
  });
  return summary;
}
