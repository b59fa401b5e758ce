import assert from 'node:assert/strict';
import { test } from 'node:test';
import { KeyedCounter } from './dns-bounds.js';

test('a keyed counter refuses past the per-key cap and past the total, and frees on release', () => {
  const c = new KeyedCounter(2, 3);
  assert.equal(c.tryAcquire('a'), true);
  assert.equal(c.tryAcquire('a'), true);
  assert.equal(c.tryAcquire('a'), false, 'per-key cap');
  assert.equal(c.tryAcquire('b'), true);
  assert.equal(c.tryAcquire('c'), false, 'total cap');
  assert.equal(c.held(), 3);
  c.release('a');
  assert.equal(c.tryAcquire('c'), true);
  c.release('zzz');
  assert.equal(c.held(), 3, 'releasing what was never taken changes nothing');
  for (const k of ['a', 'b', 'c']) c.release(k);
  assert.equal(c.held(), 0);
  assert.equal(c.held('a'), 0);
});
