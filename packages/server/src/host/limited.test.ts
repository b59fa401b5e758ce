import assert from 'node:assert/strict';
import { test } from 'node:test';
import { forEachLimited } from './limited.js';

test('forEachLimited visits every item once with at most `limit` at a time', async () => {
  let active = 0;
  let peak = 0;
  const seen: number[] = [];
  await forEachLimited([1, 2, 3, 4, 5, 6, 7], 3, async (n) => {
    active++;
    peak = Math.max(peak, active);
    await new Promise((r) => setTimeout(r, 5 * (n % 3)));
    seen.push(n);
    active--;
  });
  assert.deepEqual(seen.sort(), [1, 2, 3, 4, 5, 6, 7]);
  assert.equal(peak, 3);
  await forEachLimited([], 4, () => Promise.reject(new Error('no items')));
});
