import assert from 'node:assert/strict';
import { test } from 'node:test';
import { nameProblem } from './names.js';
import { ErrorCode, SpriteError, STATUS_BY_CODE } from './errors.js';

test('sprite names: lowercase letters, digits and dashes, 1-63 characters', () => {
  for (const ok of ['a', 'my-sprite', '0', 'a1-b2', 'x'.repeat(63)]) assert.equal(nameProblem(ok), null, ok);
  for (const bad of ['', 'A', 'a_b', '-a', 'a-', 'a.b', 'a b', 'x'.repeat(64), 'é'])
    assert.notEqual(nameProblem(bad), null, bad);
  assert.match(nameProblem(5) ?? '', /string/);
});

test('every error code has a status and a wire body', () => {
  for (const code of Object.values(ErrorCode)) assert.ok(STATUS_BY_CODE[code] >= 400, code);
  const e = new SpriteError(ErrorCode.NameTaken, 'taken', { details: { field: 'name' } });
  assert.deepEqual(e.toBody(), { field: 'name', error: 'name_taken', message: 'taken' });
  assert.equal(e.status, 400);
});
