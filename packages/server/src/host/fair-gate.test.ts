import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FairGate } from './fair-gate.js';

const tick = () => new Promise((r) => setImmediate(r));

test('a gate runs at most its limit at once and serves waiting keys round-robin', async () => {
  const gate = new FairGate(2);
  const order: string[] = [];
  const releases: (() => void)[] = [];
  let peak = 0;
  const job = (key: string, label: string) =>
    gate.run(key, async () => {
      order.push(label);
      peak = Math.max(peak, gate.active);
      await new Promise<void>((r) => releases.push(r));
    });
  // Tenant a fires six, then tenant b two: b is not stuck behind all of a's.
  const jobs = [...Array.from({ length: 6 }, (_, i) => job('a', `a${i}`)), job('b', 'b0'), job('b', 'b1')];
  await tick();
  assert.deepEqual(order, ['a0', 'a1']);
  assert.equal(gate.waiting, 6);
  while (releases.length > 0) {
    releases.shift()!();
    await tick();
    await tick();
  }
  await Promise.all(jobs);
  assert.equal(peak, 2);
  assert.deepEqual(order, ['a0', 'a1', 'a2', 'b0', 'a3', 'b1', 'a4', 'a5']);
  assert.equal(gate.active, 0);
  assert.equal(gate.waiting, 0);
});

test('a failing operation frees its place', async () => {
  const gate = new FairGate(1);
  await assert.rejects(
    gate.run('a', () => Promise.reject(new Error('boom'))),
    /boom/,
  );
  assert.equal(await gate.run('a', async () => 42), 42);
  assert.throws(() => new FairGate(0), RangeError);
});
