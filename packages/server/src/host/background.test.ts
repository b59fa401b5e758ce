import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BackgroundTasks } from './background.js';

test('background tasks run a few at a time, and shutdown waits for them only until its deadline', async () => {
  const errors: string[] = [];
  const tasks = new BackgroundTasks((what) => errors.push(what), 2);
  let active = 0;
  let peak = 0;
  let done = 0;
  for (let i = 0; i < 6; i++) {
    tasks.add(`t${i}`, async () => {
      active++;
      peak = Math.max(peak, active);
      await new Promise((r) => setTimeout(r, 20));
      active--;
      done++;
      if (i === 3) throw new Error('boom');
    });
  }
  assert.equal(tasks.pending, 6);
  assert.equal(await tasks.drain(5_000), 0);
  assert.equal(done, 6);
  assert.equal(peak, 2);
  assert.deepEqual(errors, ['t3']);

  const slow = new BackgroundTasks(() => undefined, 1);
  for (let i = 0; i < 3; i++) slow.add(`s${i}`, () => new Promise((r) => setTimeout(r, 200)));
  const started = Date.now();
  assert.equal(await slow.drain(50), 3, 'one still running and two never started are left');
  assert.ok(Date.now() - started < 150);
  slow.add('late', () => Promise.reject(new Error('nothing starts after shutdown')));
  assert.equal(slow.pending, 1, 'the one that was running finishes on its own');
});
