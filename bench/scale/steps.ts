import type { TestDaemon } from '../../test/helpers/daemon.js';
import { summarize, type Summary } from '../stats.js';
import type { ScaleClient, SpriteCounts } from './client.js';
import type { Fleet, Phases } from './fleet.js';
import type { Recorder, Timed } from './recorder.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Runs `fn` over `items`, `concurrency` at a time, in order of the items. */
export async function pool<T>(items: T[], concurrency: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
}

export interface CreateOutcome {
  created: number;
  failed: number;
  /** The first failed create (capacity mode stops there). */
  firstFailure?: Timed<string>;
  seconds: number;
}

/**
 * Creates `count` sprites named `<prefix>-00000`…, `concurrency` at a time. With
 * `haltOnFailure` no new create starts after the first failure. `progress` is called with
 * the number created so far after every success.
 */
export async function createSprites(
  d: { client: ScaleClient; recorder: Recorder; fleet: Fleet; phases: Phases },
  opts: {
    count: number;
    concurrency: number;
    prefix: string;
    haltOnFailure: boolean;
    running: () => boolean;
    progress: (created: number) => void;
  },
): Promise<CreateOutcome> {
  const t0 = Date.now();
  let next = 0;
  let created = 0;
  let failed = 0;
  let firstFailure: Timed<string> | undefined;
  const worker = async () => {
    while (next < opts.count && opts.running() && !(opts.haltOnFailure && firstFailure)) {
      const name = `${opts.prefix}-${String(next++).padStart(5, '0')}`;
      const r = await d.recorder.time('create', d.phases.of(d.fleet.size), () => d.client.create(name));
      if (r.ok) {
        d.fleet.add(name);
        opts.progress(++created);
      } else {
        failed++;
        firstFailure ??= r;
      }
    }
  };
  await Promise.all(Array.from({ length: opts.concurrency }, worker));
  return { created, failed, firstFailure, seconds: (Date.now() - t0) / 1000 };
}

export interface ListResult {
  /** GET /v1/sprites?max_results=50 (the first page). */
  firstPage?: Summary;
  /** Paging through every sprite, 50 a page. */
  walk?: Summary;
  pages: number;
  /** Sprites the last walk saw (must be all of them). */
  seen: number;
}

/** List latency: `runs` first pages, then `walks` walks through all pages. */
export async function measureList(
  client: ScaleClient,
  recorder: Recorder,
  runs: number,
  walks: number,
): Promise<ListResult> {
  for (let i = 0; i < runs; i++) await recorder.time('list-50', 'list', () => client.listPage(50));
  const walkMs: number[] = [];
  let pages = 0;
  let seen = 0;
  for (let w = 0; w < walks; w++) {
    const t0 = process.hrtime.bigint();
    let token: string | undefined;
    pages = 0;
    seen = 0;
    let complete = false;
    for (;;) {
      const r = await recorder.time('list-page', 'list', () => client.listPage(50, token));
      if (!r.ok || !r.value) break;
      pages++;
      seen += r.value.sprites?.length ?? 0;
      token = r.value.next_continuation_token ?? undefined;
      if (!r.value.has_more || !token) {
        complete = true;
        break;
      }
    }
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    recorder.add(
      'list-walk',
      'list',
      complete
        ? { status: 200, ok: true }
        : { status: 'network', ok: false, message: `a page failed after ${pages} pages` },
      ms,
    );
    if (complete) walkMs.push(ms);
  }
  return {
    firstPage: recorder.summary('list-50'),
    walk: walkMs.length > 0 ? summarize(walkMs) : undefined,
    pages,
    seen,
  };
}

/** Polls the list's counters until `done` holds or `timeoutMs` passes. */
export async function waitForCounts(
  client: ScaleClient,
  done: (c: SpriteCounts) => boolean,
  timeoutMs: number,
  running: () => boolean,
): Promise<{ counts: SpriteCounts | null; waitedMs: number; reached: boolean }> {
  const t0 = Date.now();
  let counts: SpriteCounts | null = null;
  while (running()) {
    counts = await client.counts().catch(() => counts);
    if (counts && done(counts)) return { counts, waitedMs: Date.now() - t0, reached: true };
    if (Date.now() - t0 > timeoutMs) break;
    await sleep(2000);
  }
  return { counts, waitedMs: Date.now() - t0, reached: false };
}

export interface RestartResult {
  /** SIGTERM until the process exited. */
  stopMs: number;
  /** Start until the daemon.ready log line (re-adoption included). */
  startToReadyMs: number;
  /** The daemon's own durationMs of its startup. */
  daemonStartupMs: number | null;
  adopted: number | null;
  sampled: number;
  answered: number;
  /** daemon.ready until the last sampled sprite answered its exec. */
  readyToAllAnsweringMs: number;
  /** SIGTERM until the last sampled sprite answered. */
  totalMs: number;
  exec?: Summary;
  error?: string;
}

/** A numeric field of a JSON log line, or null. */
function field(line: string, name: string): number | null {
  const m = new RegExp(`"${name}":(\\d+)`).exec(line);
  return m ? Number(m[1]) : null;
}

/**
 * Live restore: SIGTERM without --stop-sprites (the sprites keep running), start again, and
 * time it until the daemon is ready and until `sample` random sprites answer an exec.
 */
export async function restartDaemon(
  daemon: TestDaemon,
  client: ScaleClient,
  recorder: Recorder,
  fleet: Fleet,
  sample: number,
  concurrency: number,
): Promise<RestartResult> {
  const t0 = Date.now();
  let error: string | undefined;
  await daemon
    .stop('SIGTERM')
    .catch((e: unknown) => (error = `stop: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`));
  const stopped = Date.now();
  await daemon.start();
  const ready = Date.now();
  const readyLine = (await daemon.waitForLog(/"event":"daemon\.ready"/, 1, 1000).catch(() => []))[0] ?? '';
  const reclaimLine = (await daemon.waitForLog(/"event":"startup\.reclaim"/, 1, 1000).catch(() => []))[0] ?? '';
  const names = fleet.sample(sample);
  let answered = 0;
  await pool(names, concurrency, async (name) => {
    if ((await recorder.time('exec-after-restart', 'restart', () => client.exec(name))).ok) answered++;
  });
  const done = Date.now();
  return {
    stopMs: stopped - t0,
    startToReadyMs: ready - stopped,
    daemonStartupMs: field(readyLine, 'durationMs'),
    adopted: field(reclaimLine, 'adopted'),
    sampled: names.length,
    answered,
    readyToAllAnsweringMs: done - ready,
    totalMs: done - t0,
    exec: recorder.summary('exec-after-restart'),
    error,
  };
}

/** Deletes every sprite the list shows, `concurrency` at a time (a few rounds, in case one fails). */
export async function deleteAll(
  client: ScaleClient,
  recorder: Recorder,
  concurrency: number,
): Promise<{ deleted: number; seconds: number; remaining: number }> {
  const t0 = Date.now();
  let deleted = 0;
  for (let round = 0; round < 3; round++) {
    const names = await client.allNames();
    if (names.length === 0) break;
    await pool(names, concurrency, async (name) => {
      if ((await recorder.time('delete-all', 'teardown', () => client.remove(name))).ok) deleted++;
    });
  }
  const remaining = (await client.allNames()).length;
  return { deleted, seconds: (Date.now() - t0) / 1000, remaining };
}
