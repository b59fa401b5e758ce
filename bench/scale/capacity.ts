import type { SpriteCounts } from './client.js';
import { checkInterrupt, pause, type ScaleContext } from './context.js';
import { memAvailableMb, nameLimit, type HostSnapshot } from './host.js';
import type { Outcome } from './recorder.js';
import { createSprites, deleteAll, waitForCounts, type CreateOutcome } from './steps.js';

export interface CapacityResult {
  snapshots: HostSnapshot[];
  /** warm: sprites freeze soon after their create; cold: they also stop soon after. */
  counting: 'warm' | 'cold';
  goal: number;
  create?: CreateOutcome;
  /** Why creation stopped: the goal, an interrupt, or a failed create (its status and message, and the limit it points to). */
  stop?: {
    reason: 'goal' | 'interrupted' | 'failure';
    status?: Outcome;
    message?: string;
    cause?: string;
    limit?: string;
  };
  idle?: { reached: boolean; waitedMs: number; counts: SpriteCounts | null };
  /** How many sprites the host held in the counted state. */
  held?: number;
  deleteAll?: { deleted: number; seconds: number; remaining: number };
}

const PROGRESS_EVERY = 50;

/**
 * What the daemon logged for a 500 ("quote request id req-x"): the error behind it, which
 * the response does not carry. Null if there is no request id or no such line.
 */
function serverCause(ctx: ScaleContext, message: string): string | undefined {
  const reqId = /request id (\S+)/.exec(message)?.[1];
  if (!reqId) return undefined;
  for (const line of ctx.daemon.logTail(2000).split('\n')) {
    if (!line.includes(`"reqId":"${reqId}"`) || !line.includes('"err"')) continue;
    try {
      const err = (JSON.parse(line) as { err?: { message?: string } }).err;
      if (err?.message) return err.message;
    } catch {
      // not JSON
    }
  }
  return undefined;
}

/**
 * The capacity run: create (SCALE_CONCURRENCY at a time) until a create fails or the goal
 * is reached, let everything go warm (or cold, with SCALE_COLD), and report how many the
 * host held, what was left of memory, fds, addresses and uid ranges, and what stopped it.
 */
export async function runCapacity(ctx: ScaleContext, out: CapacityResult): Promise<void> {
  const { knobs, recorder, client } = ctx;
  await pause(ctx, 5000);
  out.snapshots.push(ctx.snap('baseline'));
  checkInterrupt(ctx);
  const t0 = Date.now();
  out.create = await createSprites(ctx, {
    count: out.goal,
    concurrency: knobs.concurrency,
    prefix: 'cap',
    haltOnFailure: true,
    running: () => !ctx.interrupted.aborted,
    progress: (created) => {
      if (created % PROGRESS_EVERY !== 0) return;
      const s = ctx.snap('progress');
      ctx.progress(
        `${created} sprites (goal ${out.goal}), ${((Date.now() - t0) / 1000).toFixed(1)} s; create p50 of the last ${PROGRESS_EVERY} ${recorder.recentP50('create', PROGRESS_EVERY)?.toFixed(0) ?? '—'} ms; ` +
          `MemAvailable ${memAvailableMb().toFixed(0)} MB, daemon fds ${s.daemonFds}/${s.daemonFdLimit}, host tasks ${s.hostTasks}/${s.pidMax}`,
      );
    },
  });
  // The host as the failing create left it: what the limit is named from.
  const atStop = ctx.snap('at stop');
  out.snapshots.push(atStop);
  const failure = out.create.firstFailure;
  if (failure) {
    const cause = serverCause(ctx, failure.message ?? '');
    out.stop = {
      reason: 'failure',
      status: failure.status,
      message: failure.message,
      cause,
      limit: nameLimit(`${failure.message ?? ''} ${cause ?? ''}`, atStop),
    };
  } else out.stop = { reason: ctx.interrupted.aborted ? 'interrupted' : 'goal' };
  ctx.progress(
    `creation stopped after ${out.create.created} sprites: ${out.stop.reason}${failure ? ` (${failure.message ?? ''}${out.stop.cause ? `; daemon log: ${out.stop.cause}` : ''})` : ''}`,
  );
  checkInterrupt(ctx);

  const existing = ctx.fleet.size;
  const settleMs =
    (out.counting === 'cold' ? knobs.idleColdSeconds : knobs.idleWarmSeconds) * 1000 + 120_000 + existing * 100;
  ctx.progress(`waiting for every sprite to go ${out.counting} (up to ${(settleMs / 1000).toFixed(0)} s)`);
  out.idle = await waitForCounts(
    client,
    (c) => (out.counting === 'cold' ? c.running + c.warm === 0 : c.running === 0),
    settleMs,
    () => !ctx.interrupted.aborted,
  );
  checkInterrupt(ctx);
  await pause(ctx, 5000);
  out.snapshots.push(ctx.snap('idle'));
  out.held = out.idle.counts?.[out.counting] ?? 0;
  checkInterrupt(ctx);

  ctx.progress(`deleting all ${existing} sprites, ${knobs.concurrency} at a time`);
  out.deleteAll = await deleteAll(client, recorder, knobs.concurrency);
  out.snapshots.push(ctx.snap('deleted'));
}
