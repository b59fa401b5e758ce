import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseCrashSpec } from './crash.js';

test('crash points are named <room>.<point>, optionally the n-th pass', () => {
  assert.deepEqual([...parseCrashSpec('')], []);
  assert.deepEqual([...parseCrashSpec('create.registered')], [['create.registered', 1]]);
  assert.deepEqual(
    [...parseCrashSpec(' checkpoint.snapshot@3 , idle.frozen ')],
    [
      ['checkpoint.snapshot', 3],
      ['idle.frozen', 1],
    ],
  );
  for (const bad of ['create', 'create.registered@0', 'create.registered@x', 'Create.x', 'a.b.c'])
    assert.throws(() => parseCrashSpec(bad), /SPRITES_CRASH_AT/, bad);
});
