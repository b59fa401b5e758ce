/**
 * npm run bench:scale: many sprites on one daemon (issue 15). Not a test: CI does not run it.
 *
 * Load mode (default): create SCALE_SPRITES sprites, SCALE_CONCURRENCY at a time, while
 * SCALE_CHURN_WORKERS workers exec, checkpoint/restore, write/read files and delete/re-create
 * sprites; then list latency, memory per warm sprite, a live daemon restart, and deleting it
 * all. SCALE_MODE=capacity: create until a create fails or SCALE_GOAL_WARM sprites exist (or
 * SCALE_COLD cold ones) and name the limit that stopped it. Knobs: bench/scale/knobs.ts and
 * docs/operations.md ("Scale bench").
 *
 * Progress on stderr, the report on stdout, and bench/results/scale-<time>.json. Exits
 * non-zero if the run failed or the daemon left anything on the host.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TestDaemon } from '../test/helpers/daemon.js';
import { runCapacity, type CapacityResult } from './scale/capacity.js';
import { ScaleClient } from './scale/client.js';
import { Interrupted, type ScaleContext } from './scale/context.js';
import { Fleet, Phases } from './scale/fleet.js';
import { snapshot } from './scale/host.js';
import { readKnobs, spriteTarget, type ScaleKnobs } from './scale/knobs.js';
import { runLoad, type LoadResult } from './scale/load.js';
import { Recorder } from './scale/recorder.js';
import { capacityLines, failureLines, loadLines, snapshotLines } from './scale/report.js';
import { deleteAll } from './scale/steps.js';

const progress = (line: string) => process.stderr.write(`scale: ${line}\n`);

/**
 * Whatever happened, the daemon goes: if it is down (Ctrl-C in a terminal reaches it too)
 * it is started again, every sprite is deleted through the API, then it is stopped and the
 * host is checked for leftovers.
 */
async function teardown(daemon: TestDaemon, knobs: ScaleKnobs, recorder: Recorder): Promise<string[]> {
  if (daemon.url) {
    // Not cut short by the interrupt: this is what the interrupt asked for.
    const client = new ScaleClient(daemon, 60_000, new AbortController().signal, {
      ram_mb: knobs.ramMb,
      storage_gb: knobs.storageGb,
    });
    try {
      const up = await client.counts().then(
        () => true,
        () => false,
      );
      if (!up) {
        progress('teardown: the daemon is down; starting it again to delete the sprites');
        await daemon.stop('SIGTERM').catch(() => undefined);
        await daemon.start();
      }
      const left = (await client.allNames()).length;
      if (left > 0) {
        progress(`teardown: deleting ${left} sprites`);
        await deleteAll(client, recorder, knobs.concurrency);
      }
    } catch (e) {
      progress(`teardown: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  progress('teardown: stopping the daemon and looking for leftovers');
  return daemon.destroy();
}

async function main(): Promise<number> {
  const knobs = readKnobs();
  const interrupt = new AbortController();
  let signals = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    if (++signals > 1) {
      progress(`${signal} again: leaving at once; host resources of the daemon may stay behind`);
      process.exit(130);
    }
    progress(`${signal}: stopping the workload and cleaning up (again to leave at once)`);
    interrupt.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  // A stray rejection (a socket error after its request was settled) must not end the run
  // before teardown.
  process.on('unhandledRejection', (e) =>
    progress(`unhandled rejection (ignored): ${e instanceof Error ? e.message : String(e)}`),
  );

  const most = spriteTarget(knobs);
  // The uid-range claims are sized by SPRITES_MAX_SPRITES: room for the run and the
  // pre-booted sprites, unless set (a capacity run can find that limit on purpose).
  const maxSprites = Number(process.env.SPRITES_MAX_SPRITES) || Math.max(4096, most + 64);
  const daemon = new TestDaemon({
    env: {
      SPRITES_IDLE_WARM_SECONDS: String(knobs.idleWarmSeconds),
      SPRITES_IDLE_COLD_SECONDS: String(knobs.idleColdSeconds),
      SPRITES_MAX_SPRITES: String(maxSprites),
    },
    extraArgs: ['--pool-size', knobs.poolSize],
  });
  const recorder = new Recorder(interrupt.signal);
  const client = new ScaleClient(daemon, knobs.requestTimeoutMs, interrupt.signal, {
    ram_mb: knobs.ramMb,
    storage_gb: knobs.storageGb,
  });
  const phases = new Phases(most);
  const ctx: ScaleContext = {
    daemon,
    client,
    recorder,
    fleet: new Fleet(),
    phases,
    knobs,
    interrupted: interrupt.signal,
    snap: (at) => snapshot(at, daemon.pid, daemon.dataDir, daemon.instanceId, maxSprites),
    progress,
  };
  const date = new Date().toISOString();
  const load: LoadResult = { snapshots: [] };
  const capacity: CapacityResult = { snapshots: [], counting: knobs.cold > 0 ? 'cold' : 'warm', goal: most };
  let error: string | undefined;
  let leftovers: string[];
  try {
    progress(
      `${knobs.mode} mode; starting a daemon (pool ${knobs.poolSize}, idle warm ${knobs.idleWarmSeconds} s, cold ${knobs.idleColdSeconds} s)`,
    );
    await daemon.start();
    if (knobs.mode === 'load') await runLoad(ctx, load);
    else await runCapacity(ctx, capacity);
  } catch (e) {
    if (!(e instanceof Interrupted)) {
      error = e instanceof Error ? (e.stack ?? e.message) : String(e);
      progress(`the run failed: ${error}`);
    }
  } finally {
    leftovers = await teardown(daemon, knobs, recorder).catch((e: unknown) => [
      `teardown failed: ${e instanceof Error ? e.message : String(e)}`,
    ]);
  }

  const snapshots = knobs.mode === 'load' ? load.snapshots : capacity.snapshots;
  const head =
    knobs.mode === 'load'
      ? `Sprites, self-hosted: bench:scale ${date}: ${knobs.sprites} sprites (${knobs.ramMb} MB, ${knobs.storageGb} GB), ${knobs.concurrency} creates at a time, ${knobs.churnWorkers} churn workers, runtime ${daemon.runtime}, pool ${knobs.poolSize}`
      : `Sprites, self-hosted: bench:scale ${date}: capacity (${capacity.counting}, goal ${capacity.goal}), ${knobs.concurrency} creates at a time, runtime ${daemon.runtime}, pool ${knobs.poolSize}`;
  const lines = [
    '',
    head,
    ...(interrupt.signal.aborted ? ['INTERRUPTED: the figures below are partial'] : []),
    ...(error ? [`FAILED: ${error.split('\n')[0]}`] : []),
    ...(knobs.mode === 'load' ? loadLines(load, recorder, phases.labels) : capacityLines(capacity)),
    '',
    ...failureLines(recorder),
    '',
    ...snapshotLines(snapshots),
    '',
    leftovers.length === 0
      ? 'leftovers on the host: none'
      : `LEFTOVERS on the host (${leftovers.length}):\n${leftovers.map((l) => `  ${l}`).join('\n')}`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);

  const results = {
    date,
    mode: knobs.mode,
    knobs,
    runtime: daemon.runtime,
    instanceId: daemon.instanceId,
    interrupted: interrupt.signal.aborted,
    error: error ?? null,
    result: knobs.mode === 'load' ? load : capacity,
    latencyByKind: Object.fromEntries(recorder.kinds().map((k) => [k, recorder.summary(k)])),
    statusCounts: recorder.statusCounts(),
    failures: recorder.failureGroups(),
    goals: { serverErrors: recorder.serverErrors(), failedCreates: recorder.failedCreates() },
    leftovers,
  };
  const dir = join(process.cwd(), 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `scale-${date.replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
  process.stdout.write(`results written to ${file}\n`);
  if (interrupt.signal.aborted) return 130;
  return error || leftovers.length > 0 ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`bench:scale failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(1);
  },
);
