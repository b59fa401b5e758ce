import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { SpriteStatus } from '@sprites/protocol';
import { KeyedMutex } from '../host/index.js';
import { ActivityTracker } from './activity.js';
import { sweepIdle, type IdleSweepDeps } from './idle.js';

const WARM = 1_000;
const COLD = 5_000;

/** A host of fake sprites on a fake clock, recording what the sweep did to them. */
function fakeHost(parallel = 4) {
  let now = 1_000_000;
  const activity = new ActivityTracker(() => now);
  const status = new Map<string, SpriteStatus>();
  const sessions = new Set<string>();
  const failing = new Set<string>();
  const dead = new Map<string, string>();
  const runs = new Map<string, string>();
  const done: string[] = [];
  const warnings: string[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const locks = new KeyedMutex();
  /** A transition that takes a while, so parallel ones overlap. */
  const transition = async (what: string, id: string, to: SpriteStatus | null) => {
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    try {
      await new Promise((r) => setTimeout(r, 5));
      if (failing.has(id)) throw new Error(`${what} ${id} failed`);
      if (to) status.set(id, to);
      else status.delete(id);
      done.push(`${what} ${id}`);
    } finally {
      inFlight--;
    }
  };
  const deps: IdleSweepDeps = {
    activity,
    idle: { warmAfterMs: WARM, coldAfterMs: COLD },
    parallel,
    log: { warn: (_obj: unknown, msg?: string) => void warnings.push(msg ?? '') } as IdleSweepDeps['log'],
    locked: (id, fn) => locks.run(id, fn),
    liveSprites: () => Promise.resolve([...status.keys()].filter((id) => status.get(id) !== 'cold')),
    status: (id) => Promise.resolve(status.get(id) ?? null),
    deadRuns: () => [...dead].map(([spriteId, runId]) => ({ spriteId, runId })),
    isDead: (id) => dead.has(id),
    currentRunId: (id) => Promise.resolve(runs.get(id) ?? null),
    stopDead: async (id) => {
      dead.delete(id);
      await transition('stop dead', id, 'cold');
    },
    hasRunningSession: (id) => Promise.resolve(sessions.has(id)),
    freeze: (id) => transition('freeze', id, 'warm'),
    coolDown: (id) => transition('cool', id, 'cold'),
  };
  const add = (id: string, s: SpriteStatus) => {
    status.set(id, s);
    runs.set(id, `run-${id}`);
    activity.touch(id);
  };
  return {
    deps,
    activity,
    status,
    sessions,
    failing,
    dead,
    runs,
    done,
    warnings,
    add,
    advance: (ms: number) => (now += ms),
    maxInFlight: () => maxInFlight,
    did: (what: string) => done.includes(what),
  };
}

test('a quiet running sprite goes warm after the warm delay, not before', async () => {
  const host = fakeHost();
  host.add('a', 'running');
  host.advance(WARM - 1);
  await sweepIdle(host.deps);
  assert.deepEqual(host.done, []);
  host.advance(1);
  await sweepIdle(host.deps);
  assert.deepEqual(host.done, ['freeze a']);
  assert.equal(host.status.get('a'), 'warm');
});

test('a warm sprite goes cold only after the cold delay', async () => {
  const host = fakeHost();
  host.add('a', 'warm');
  host.advance(COLD - 1);
  await sweepIdle(host.deps);
  assert.deepEqual(host.done, []);
  host.advance(1);
  await sweepIdle(host.deps);
  assert.deepEqual(host.done, ['cool a']);
  assert.equal(host.status.get('a'), 'cold');
});

test('busy sprites are skipped: an open connection, recent use, a running session', async () => {
  const host = fakeHost();
  host.add('connected', 'running');
  host.add('session', 'running');
  host.add('used', 'running');
  host.activity.opened('connected');
  host.sessions.add('session');
  host.advance(WARM + 10);
  host.activity.touch('used');
  await sweepIdle(host.deps);
  assert.deepEqual(host.done, []);
  // The running session counts as use: the sprite is quiet again only a warm delay later.
  host.sessions.delete('session');
  host.advance(WARM - 1);
  await sweepIdle(host.deps);
  assert.deepEqual(host.done, []);
  host.advance(1);
  await sweepIdle(host.deps);
  assert.deepEqual(host.done.sort(), ['freeze session', 'freeze used']);
  host.activity.closed('connected');
  host.advance(WARM);
  await sweepIdle(host.deps);
  assert.ok(host.did('freeze connected'), 'a closed connection starts the quiet time');
});

test('a sprite never seen counts as just used', async () => {
  const host = fakeHost();
  host.status.set('adopted', 'running');
  await sweepIdle(host.deps);
  host.advance(WARM - 1);
  await sweepIdle(host.deps);
  assert.deepEqual(host.done, []);
});

test('transitions run side by side, at most `parallel` at once, and a failure stops none of the others', async () => {
  const host = fakeHost(3);
  for (let i = 0; i < 10; i++) host.add(`s${i}`, 'running');
  host.failing.add('s4');
  host.advance(WARM);
  await sweepIdle(host.deps);
  assert.equal(host.maxInFlight(), 3);
  assert.equal(host.done.length, 9);
  assert.ok(!host.did('freeze s4'));
  assert.deepEqual(host.warnings, ['idle transition failed; retrying on the next pass']);
  host.failing.clear();
  await sweepIdle(host.deps);
  assert.ok(host.did('freeze s4'), 'retried on the next pass');
});

test('dead containers are released once, only for the run that died', async () => {
  const host = fakeHost();
  host.add('a', 'running');
  host.add('b', 'running');
  host.dead.set('a', 'run-a');
  // b's dead run was replaced by a newer one meanwhile: it is left to the new run.
  host.dead.set('b', 'run-old');
  await sweepIdle(host.deps);
  assert.deepEqual(host.done, ['stop dead a']);
  assert.equal(host.status.get('a'), 'cold');
  assert.equal(host.status.get('b'), 'running');
});
