import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SpriteError } from '@sprites/protocol';
import { agentPath, decodeSegment } from './path.js';

test('forwarded paths are rebuilt from the route, so they can only name that endpoint', () => {
  assert.equal(
    agentPath('box', ['fs', 'list'], '/v1/sprites/box/fs/list?path=/tmp'),
    '/v1/sprites/box/fs/list?path=/tmp',
  );
  assert.equal(agentPath('box', ['exec'], '/v1/sprites/box/exec'), '/v1/sprites/box/exec');
  for (const bad of ['..', '.', '..\\..\\internal\\http-target', 'a/b', 'a\\b', '', '%2e%2e', 'x'.repeat(200)]) {
    assert.throws(
      () => agentPath('box', ['fs', bad], '/x'),
      (e: unknown) => e instanceof SpriteError && e.status === 400,
      bad,
    );
  }
});

test('a malformed percent escape is a 400', () => {
  assert.equal(decodeSegment('a%20b'), 'a b');
  assert.throws(
    () => decodeSegment('%E0%A4%A'),
    (e: unknown) => e instanceof SpriteError && e.status === 400,
  );
});
