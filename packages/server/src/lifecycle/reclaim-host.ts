import { readdir, rm } from 'node:fs/promises';
import { mountsUnder, unmount } from '../host/index.js';
import { listChildCgroups, removeCgroupTree } from '../runtime/index.js';
import type { ReclaimState } from './reclaim-step.js';

/** Startup reclaim of host resources this instance left behind (containers to run dirs), in that order. */

export async function reclaimContainers({ ctx, adopted, count }: ReclaimState): Promise<void> {
  const { paths } = ctx;
  for (const id of await ctx.runtime.list(paths.containerPrefix)) {
    if (adopted.has(id.slice(paths.containerPrefix.length))) continue;
    await ctx.runtime.delete(id);
    count('containers');
  }
}

export async function reclaimMounts({ ctx, adopted, count }: ReclaimState): Promise<void> {
  const { paths } = ctx;
  for (const target of await mountsUnder(paths.runRoot)) {
    const spriteId = target.slice(paths.runRoot.length + 1).split('/')[0] ?? '';
    if (adopted.has(spriteId)) continue;
    await unmount(target);
    count('mounts');
  }
}

export async function reclaimNetwork({ ctx, liveNetSlots, count }: ReclaimState): Promise<void> {
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
}

export async function reclaimCgroups({ ctx, adopted, count }: ReclaimState): Promise<void> {
  const { paths } = ctx;
  for (const child of await listChildCgroups(paths.cgroupParent)) {
    if (adopted.has(child)) continue;
    const { removed } = await removeCgroupTree(`${paths.cgroupParent}/${child}`);
    if (removed > 0) count('cgroups');
  }
}

/** Claims are given back one by one, each only once its resource is seen gone (ADR 0022). */
export async function reclaimClaims({ ctx, liveNetSlots, liveIdSlots, count, attempt }: ReclaimState): Promise<void> {
  const stale = await ctx.allocator.removeStalePending();
  if (stale > 0) count('pending claims', stale);
  for (const { index } of await ctx.allocator.heldNetworks()) {
    if (liveNetSlots.has(index)) continue;
    await attempt(`network slot ${index}`, async () => {
      await ctx.allocator.retireNetwork(index);
      count('net claims');
    });
  }
  for (const { index, owner } of await ctx.allocator.heldIdRanges()) {
    if (liveIdSlots.has(index)) continue;
    await attempt(`id range ${index}`, async () => {
      await ctx.allocator.retireIds(index, owner);
      count('id claims');
    });
  }
}

export async function reclaimRunDirs({ ctx, adopted, count }: ReclaimState): Promise<void> {
  const { paths } = ctx;
  for (const name of await readdir(paths.runRoot).catch(() => [] as string[])) {
    if (adopted.has(name)) continue;
    await rm(paths.runDir(name), { recursive: true, force: true });
    count('run dirs');
  }
}
