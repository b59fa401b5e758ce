import { errorText, mountsUnder } from '../host/index.js';
import type { LifecycleContext } from './context.js';
import { hostIdBase } from './paths.js';
import { reconcileCheckpoints, reconcileVolumes, settleRestores } from './reclaim-disks.js';
import {
  reclaimCgroups,
  reclaimClaims,
  reclaimContainers,
  reclaimMounts,
  reclaimNetwork,
  reclaimRunDirs,
} from './reclaim-host.js';
import type { ReclaimState, ReclaimStep, ReclaimSummary } from './reclaim-step.js';
import { closeRunDir } from './start.js';
import { releaseRun } from './stop.js';

/**
 * Live restore and crash recovery, run once at startup before the API opens, in this order:
 * re-adopt every sprite whose container still runs with its network and root filesystem;
 * then release whatever else this instance left on the host (containers, mounts, network,
 * cgroups, claims, run dirs) and reconcile the storage pool with the registry (half-done
 * restores, checkpoints, volumes). Besides the adoption, each step is best effort.
 */
export const RECLAIM_STEPS: readonly ReclaimStep[] = [
  { name: 'adopt runs', required: true, run: adoptRuns },
  { name: 'mark the rest cold', required: true, run: markUnadoptedCold },
  { name: 'containers', run: reclaimContainers },
  { name: 'mounts', run: reclaimMounts },
  { name: 'network namespaces', run: reclaimNetwork },
  { name: 'cgroups', run: reclaimCgroups },
  { name: 'claims', run: reclaimClaims },
  { name: 'run dirs', run: reclaimRunDirs },
  { name: 'half-done restores', run: settleRestores },
  { name: 'checkpoints', run: reconcileCheckpoints },
  { name: 'volumes', run: reconcileVolumes },
];

/** Runs the reclaim steps in order, each logged with what it reclaimed and how long it took. */
export async function adoptAndReclaim(
  ctx: LifecycleContext,
  steps: readonly ReclaimStep[] = RECLAIM_STEPS,
): Promise<ReclaimSummary> {
  const summary: ReclaimSummary = { adopted: 0, stoppedStale: 0, reclaimed: {}, errors: [] };
  let stepCounts: Record<string, number> = {};
  const state: ReclaimState = {
    ctx,
    summary,
    adopted: new Set(),
    liveNetSlots: new Set(),
    liveIdSlots: new Set(),
    count: (what, n = 1) => {
      summary.reclaimed[what] = (summary.reclaimed[what] ?? 0) + n;
      stepCounts[what] = (stepCounts[what] ?? 0) + n;
    },
    attempt: async (what, fn) => {
      try {
        await fn();
      } catch (e) {
        summary.errors.push(`${what}: ${errorText(e)}`);
      }
    },
  };
  for (const step of steps) {
    const started = Date.now();
    const errorsBefore = summary.errors.length;
    stepCounts = {};
    let failure: Error | null = null;
    try {
      await step.run(state);
    } catch (e) {
      if (step.required) failure = e instanceof Error ? e : new Error(errorText(e));
      else summary.errors.push(`${step.name}: ${errorText(e)}`);
    }
    const errors = summary.errors.length - errorsBefore;
    ctx.log[failure !== null || errors > 0 ? 'warn' : 'info'](
      {
        event: 'reclaim.step',
        step: step.name,
        reclaimed: stepCounts,
        errors,
        outcome: failure !== null ? 'error' : 'ok',
        durationMs: Date.now() - started,
        ...(failure !== null ? { err: failure } : {}),
      },
      `startup reclaim: ${step.name}`,
    );
    if (failure !== null) throw failure;
  }
  return summary;
}

/**
 * Re-adopts each recorded run whose container still runs (or is frozen) with its network
 * namespace, root filesystem and claims; releases the others.
 */
async function adoptRuns(state: ReclaimState): Promise<void> {
  const { ctx, summary } = state;
  const { paths, registry } = ctx;
  // Read once for all runs: a thousand sprites are re-adopted in seconds, not a spawn each.
  const states = await ctx.runtime.states(paths.containerPrefix);
  const mounted = new Set(await mountsUnder(paths.runRoot));
  const netns = new Set(await ctx.slots.listIndexes());
  for (const runRecord of await registry.runs.all()) {
    const sprite = await registry.sprites.byId(runRecord.spriteId);
    const container = states.get(paths.containerId(runRecord.spriteId)) ?? null;
    const healthy =
      sprite !== null &&
      container !== null &&
      (container.status === 'running' || container.status === 'paused') &&
      netns.has(runRecord.netSlot) &&
      mounted.has(paths.rootfs(runRecord.spriteId)) &&
      (await ctx.allocator.adopt(runRecord.netSlot, runRecord.idSlot, runRecord.spriteId));
    if (healthy) {
      state.adopted.add(runRecord.spriteId);
      ctx.watch.started(runRecord.spriteId, runRecord.runId, container);
      // A run an older daemon started may have an open run dir.
      await state.attempt(`close run dir of ${runRecord.spriteId}`, () =>
        closeRunDir(paths.runDir(runRecord.spriteId), hostIdBase(runRecord.idSlot)),
      );
      state.liveNetSlots.add(runRecord.netSlot);
      state.liveIdSlots.add(runRecord.idSlot);
      await registry.sprites.setStatus(runRecord.spriteId, container.status === 'paused' ? 'warm' : 'running');
      summary.adopted++;
      continue;
    }
    await state.attempt(`release stale run of ${runRecord.spriteId}`, async () => {
      await releaseRun(ctx, runRecord.spriteId, runRecord, false);
      await registry.runs.remove(runRecord.spriteId, runRecord.runId);
      if (sprite) await registry.sprites.setStatus(runRecord.spriteId, 'cold');
      summary.stoppedStale++;
    });
  }
}

/** Sprites recorded as up without a run are cold now. */
async function markUnadoptedCold(state: ReclaimState): Promise<void> {
  const { registry } = state.ctx;
  for (const sprite of await registry.sprites.all()) {
    if (sprite.status !== 'cold' && !state.adopted.has(sprite.id)) await registry.sprites.setStatus(sprite.id, 'cold');
  }
}
