import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TargetCache } from './target-cache.js';

test('a cached target is used only for the run it was learned on', () => {
  const cache = new TargetCache(60_000);
  cache.set('s1', { runId: 'run-a', address: '10.0.0.2', port: 8080 });
  assert.equal(cache.get('s1', 'run-a')?.address, '10.0.0.2');
  // The sprite restarted (or was deleted and its address handed on): the old answer is gone.
  assert.equal(cache.get('s1', 'run-b'), null);
  assert.equal(cache.get('s1', 'run-a'), null);
});

test('cached targets expire and the cache stays bounded', () => {
  const cache = new TargetCache(0);
  cache.set('s1', { runId: 'r', address: 'x', port: 1 });
  assert.equal(cache.get('s1', 'r'), null);
  const small = new TargetCache(60_000, 3);
  for (let i = 0; i < 10; i++) small.set(`s${i}`, { runId: 'r', address: 'x', port: 1 });
  assert.ok(['s7', 's8', 's9'].filter((id) => small.get(id, 'r') !== null).length <= 3);
});
