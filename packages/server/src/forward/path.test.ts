import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SpriteError } from '@sprites/protocol';
import { agentPath, decodeSegment, webSocketPath } from './path.js';

const isBadRequest = (e: unknown) => e instanceof SpriteError && e.status === 400;

test('forwarded paths are rebuilt from the route, so they can only name that endpoint', () => {
  assert.equal(
    agentPath('fs', { name: 'box', op: 'list' }, '/v1/sprites/box/fs/list?path=/tmp'),
    '/v1/sprites/box/fs/list?path=/tmp',
  );
  assert.equal(agentPath('exec', { name: 'box' }, '/v1/sprites/box/exec'), '/v1/sprites/box/exec');
  assert.equal(
    agentPath('execKill', { name: 'box', session: 's-1.2_x' }, '/ignored/path?signal=TERM'),
    '/v1/sprites/box/exec/s-1.2_x/kill?signal=TERM',
  );
  assert.equal(
    agentPath('serviceAction', { name: 'box', service: 'web', action: 'logs' }, '/x?follow=1&lines=5'),
    '/v1/sprites/box/services/web/logs?follow=1&lines=5',
  );
  for (const bad of ['..', '.', '..\\..\\internal\\http-target', 'a/b', 'a\\b', '', '%2e%2e', 'x'.repeat(200)]) {
    assert.throws(() => agentPath('fs', { name: 'box', op: bad }, '/x'), isBadRequest, bad);
    assert.throws(() => agentPath('service', { name: 'box', service: bad }, '/x'), isBadRequest, bad);
  }
});

test('a bad parameter is named in the answer, cut to a readable length', () => {
  assert.throws(
    () => agentPath('serviceAction', { name: 'box', service: 'web', action: 'a b' }, '/x'),
    (e: unknown) => e instanceof SpriteError && e.message === '"a b" is not a valid path segment here',
  );
  assert.throws(
    () => agentPath('execSession', { name: 'box', session: 'y'.repeat(200) }, '/x'),
    (e: unknown) => e instanceof SpriteError && e.message === `"${'y'.repeat(80)}" is not a valid path segment here`,
  );
});

test("the sprite's name is encoded, never judged as a forwarded segment", () => {
  // The name comes from the registry; only the route's own parameters follow the stricter rule.
  assert.equal(agentPath('proxy', { name: 'a b' }, '/x'), '/v1/sprites/a%20b/proxy');
});

test('WebSocket endpoints are recognised by shape, their segments left raw', () => {
  assert.deepEqual(webSocketPath('/v1/sprites/box/exec'), { route: 'exec', name: 'box', params: {} });
  assert.deepEqual(webSocketPath('/v1/sprites/b%6Fx/exec/%2e%2e'), {
    route: 'execSession',
    name: 'b%6Fx',
    params: { session: '%2e%2e' },
  });
  assert.deepEqual(webSocketPath('/v1/sprites/box/exec/kill'), {
    route: 'execSession',
    name: 'box',
    params: { session: 'kill' },
  });
  assert.equal(webSocketPath('/v1/sprites/box/fs/watch')?.route, 'fsWatch');
  assert.equal(webSocketPath('/v1/sprites/box/ports/watch')?.route, 'portsWatch');
  assert.equal(webSocketPath('/v1/sprites/box/proxy')?.route, 'proxy');
});

test('paths that are no WebSocket endpoint are not recognised', () => {
  for (const path of [
    '/v1/sprites/box',
    '/v1/sprites/box/',
    '/v1/sprites//exec',
    '/v1/sprites/box/exec/',
    '/v1/sprites/box/exec/a/kill',
    '/v1/sprites/box/fs/read',
    '/v1/sprites/box/fs/%77atch',
    '/v1/sprites/box/services',
    '/v1/sprites/box/checkpoints',
    '/v1/sprites/box/proxy/x',
    '/v1/sprites',
    '/v1/spritesx/box/exec',
    '/v2/sprites/box/exec',
  ]) {
    assert.equal(webSocketPath(path), null, path);
  }
});

test('a malformed percent escape is a 400', () => {
  assert.equal(decodeSegment('a%20b'), 'a b');
  assert.throws(() => decodeSegment('%E0%A4%A'), isBadRequest);
});
