import type { Summary } from '../stats.js';
import { Bystander } from './bystander.js';
import { churnWorker } from './churn.js';
import type { SpriteCounts } from './client.js';
import { checkInterrupt, pause, type ScaleContext } from './context.js';
import { memAvailableMb, type HostSnapshot } from './host.js';
import {
  createSprites,
  deleteAll,
  measureList,
  restartDaemon,
  waitForCounts,
  type CreateOutcome,
  type ListResult,
  type RestartResult,
} from './steps.js';

/** Filled step by step, so an interrupted or failed run still reports what it got. */
export interface LoadResult {
  snapshots: HostSnapshot[];
  create?: CreateOutcome;
  churnOps?: number;
  /** create / exec / checkpoint / restore latencies by phase of the sprite count. */
  latency?: Record<string, Record<string, Summary | undefined>>;
  list?: ListResult;
  idle?: { reached: boolean; waitedMs: number; counts: SpriteCounts | null };
  /** MemAvailable drop from before the first create to all sprites warm, per warm sprite. */
  memAvailablePerWarmSpriteMb?: number;
  cgroupChargePerSpriteMb?: number;
  restart?: RestartResult;
  deleteAll?: { deleted: number; seconds: number; remaining: number };
}

const PROGRESS_EVERY = 50;
const LATENCY_KINDS = ['create', 'exec', 'checkpoint', 'restore', 'recreate', 'fs-write', 'fs-read'];

/**
 * The load run: N sprites created while churn workers exec, checkpoint and restore, write
 * files and re-create sprites; then list latency, memory once all froze, a live restart,
 * and deleting everything.
 */
export async function runLoad(ctx: ScaleContext, out: LoadResult): Promise<void> {
  const { knobs, recorder, fleet, phases, client } = ctx;
  // Pre-booted sprites and spares fill up right after start; memory is read after that.
  await pause(ctx, 5000);
  const baseline = ctx.snap('baseline');
  out.snapshots.push(baseline);
  checkInterrupt(ctx);

  const bystander = new Bystander(ctx);
  await bystander.setUp();
  bystander.start();
  let churning = true;
  const churnDeps = { client, recorder, fleet, phases, current: new Map<string, string>() };
  const workers = Array.from({ length: knobs.churnWorkers }, () =>
    churnWorker(churnDeps, () => churning && !ctx.interrupted.aborted),
  );
  const t0 = Date.now();
  try {
    out.create = await createSprites(ctx, {
      count: knobs.sprites,
      concurrency: knobs.concurrency,
      prefix: 'scale',
      haltOnFailure: false,
      running: () => !ctx.interrupted.aborted,
      progress: (created) => {
        if (created % PROGRESS_EVERY !== 0 && created !== knobs.sprites) return;
        const p50 = (kind: string) => recorder.recentP50(kind, PROGRESS_EVERY)?.toFixed(0) ?? '—';
        ctx.progress(
          `${created}/${knobs.sprites} sprites, ${((Date.now() - t0) / 1000).toFixed(1)} s; p50 of the last ${PROGRESS_EVERY}: create ${p50('create')} ms, exec ${p50('exec')} ms, checkpoint ${p50('checkpoint')} ms; ` +
            `${recorder.count() - recorder.count('create')} churn requests, ${recorder.count(undefined, false)} failed; MemAvailable ${memAvailableMb().toFixed(0)} MB`,
        );
      },
    });
    checkInterrupt(ctx);
    phases.steady = true;
    ctx.progress(
      `all created in ${out.create.seconds.toFixed(1)} s (${out.create.failed} failed); churning ${knobs.steadySeconds} s more at ${fleet.size} sprites`,
    );
    await pause(ctx, knobs.steadySeconds * 1000);
  } finally {
    churning = false;
    out.churnOps = (await Promise.all(workers)).reduce((a, b) => a + b, 0);
    await bystander.stop();
  }
  out.latency = Object.fromEntries(
    LATENCY_KINDS.map((kind) => [
      kind,
      Object.fromEntries(phases.labels.map((label) => [label, recorder.summary(kind, label)])),
    ]),
  );
  out.latency['bystander-exec'] = Object.fromEntries(
    ['quiet', ...phases.labels].map((label) => [label, recorder.summary('bystander-exec', label)]),
  );
  out.snapshots.push(ctx.snap('created'));
  checkInterrupt(ctx);

  ctx.progress('list latency: 20 first pages of 50, 3 walks through all pages');
  out.list = await measureList(client, recorder, 20, 3);
  checkInterrupt(ctx);

  const warmTimeoutMs = knobs.idleWarmSeconds * 1000 + 120_000 + fleet.size * 100;
  ctx.progress(
    `waiting for every sprite to go warm (idle ${knobs.idleWarmSeconds} s; up to ${(warmTimeoutMs / 1000).toFixed(0)} s)`,
  );
  const idle = await waitForCounts(
    client,
    (c) => c.running === 0,
    warmTimeoutMs,
    () => !ctx.interrupted.aborted,
  );
  out.idle = idle;
  checkInterrupt(ctx);
  // Let reclaimable memory settle after the last freeze.
  await pause(ctx, 5000);
  const warm = ctx.snap('warm');
  out.snapshots.push(warm);
  const warmCount = idle.counts?.warm ?? 0;
  if (warmCount > 0) {
    out.memAvailablePerWarmSpriteMb = (baseline.memAvailableMb - warm.memAvailableMb) / warmCount;
    out.cgroupChargePerSpriteMb = warm.spriteCgroupChargeMb / Math.max(1, warm.spriteCgroups);
  }
  checkInterrupt(ctx);

  ctx.progress(
    `restarting the daemon (SIGTERM, sprites keep running), then exec in ${knobs.restartSample} random sprites`,
  );
  out.restart = await restartDaemon(ctx.daemon, client, recorder, fleet, knobs.restartSample, knobs.concurrency);
  out.snapshots.push(ctx.snap('restarted'));
  checkInterrupt(ctx);

  ctx.progress(`deleting all ${fleet.size} sprites, ${knobs.concurrency} at a time`);
  out.deleteAll = await deleteAll(client, recorder, knobs.concurrency);
  out.snapshots.push(ctx.snap('deleted'));
}
