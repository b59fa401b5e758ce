import assert from 'node:assert/strict';
import { test } from 'node:test';
import { APIError, ConnectionError } from './errors.js';
import { fakeClient, jsonResponse, withFetch } from './testing/fake.js';

const none = () => assert.fail('no WebSocket expected');

test('sprite info: the wire shape becomes the handle fields; the path escapes the name', async () => {
  const { client } = fakeClient(none);
  const { result: sprite, requests } = await withFetch(
    () =>
      jsonResponse(200, {
        id: 'sp-1',
        name: 'a b',
        organization: 'acme',
        status: 'warm',
        config: { ram_mb: 512, cpus: 1, region: 'local', storage_gb: 10 },
        environment: { A: '1' },
        created_at: '2026-01-02T03:04:05Z',
        updated_at: '2026-01-02T03:04:06Z',
        primary_region: 'local',
        url: 'http://a-b.sprites.test',
        url_settings: { auth: 'public' },
        labels: ['x'],
        last_running_at: null,
        last_warming_at: '2026-01-02T03:04:07Z',
      }),
    () => client.getSprite('a b'),
  );
  assert.equal(requests[0]?.method, 'GET');
  assert.equal(requests[0]?.url.pathname, '/v1/sprites/a%20b');
  assert.equal(requests[0]?.headers.get('authorization'), 'Bearer tok');
  assert.equal(sprite.id, 'sp-1');
  assert.equal(sprite.status, 'warm');
  assert.deepEqual(sprite.config, { ramMB: 512, cpus: 1, region: 'local', storageGB: 10 });
  assert.deepEqual(sprite.urlSettings, { auth: 'public' });
  assert.equal(sprite.createdAt?.toISOString(), '2026-01-02T03:04:05.000Z');
  assert.equal(sprite.lastRunningAt, undefined);
  assert.equal(sprite.lastWarmingAt?.toISOString(), '2026-01-02T03:04:07.000Z');
});

test('an error body becomes an APIError with its code, status and details', async () => {
  const { client } = fakeClient(none);
  const { result: err } = await withFetch(
    () =>
      jsonResponse(
        429,
        {
          error: 'concurrent_sprite_limit_exceeded',
          message: 'too many live sprites',
          limit: 3,
          current_count: 3,
          retry_after_seconds: 30,
          request_id: 'r-9',
        },
        { 'retry-after': '30' },
      ),
    () =>
      client.createSprite('box').then(
        () => assert.fail('resolved'),
        (e: unknown) => e,
      ),
  );
  assert.ok(err instanceof APIError);
  assert.equal(err.statusCode, 429);
  assert.equal(err.errorCode, 'concurrent_sprite_limit_exceeded');
  assert.equal(err.message, 'too many live sprites');
  assert.equal(err.limit, 3);
  assert.equal(err.currentCount, 3);
  assert.equal(err.retryAfterSeconds, 30);
  assert.equal(err.requestId, 'r-9');
});

test('creating a sprite posts the wire body and expects 201', async () => {
  const { client } = fakeClient(none);
  const { result: sprite, requests } = await withFetch(
    () => jsonResponse(201, { id: 'sp-2', name: 'box', status: 'running' }),
    () => client.createSprite('box', { config: { ramMB: 256 }, labels: ['l'], urlSettings: { auth: 'sprite' } }),
  );
  assert.equal(requests[0]?.method, 'POST');
  assert.equal(requests[0]?.url.pathname, '/v1/sprites');
  assert.deepEqual(JSON.parse(requests[0]?.body ?? ''), {
    name: 'box',
    config: { ram_mb: 256 },
    labels: ['l'],
    url_settings: { auth: 'sprite' },
  });
  assert.equal(sprite.status, 'running');
  // A 200 where 201 is the contract is an error, not a silent success.
  await assert.rejects(
    withFetch(
      () => jsonResponse(200, { name: 'box' }),
      () => client.createSprite('box'),
    ),
    /unexpected status 200/,
  );
});

test('an unreachable server is a ConnectionError naming the request', async () => {
  const { client } = fakeClient(none);
  const err = await withFetch(
    () => Promise.reject(new TypeError('fetch failed')),
    () => client.sprite('box').listSessions(),
  ).then(
    () => assert.fail('resolved'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof ConnectionError);
  assert.match(err.message, /GET \/v1\/sprites\/box\/exec: could not reach/);
});

test('sessions: list and kill go to the exec paths; a 410 kill reads as one exited event', async () => {
  const { client } = fakeClient(none);
  const sprite = client.sprite('box');
  const { result: sessions } = await withFetch(
    () => jsonResponse(200, { sessions: [{ id: 4, command: 'bash', tty: true, is_active: true, created: 1 }] }),
    () => sprite.listSessions(),
  );
  assert.equal(sessions[0]?.id, '4');
  assert.equal(sessions[0]?.tty, true);
  const { result: events, requests } = await withFetch(
    () => jsonResponse(410, { error: 'session_ended', message: 'gone' }),
    async () => {
      const stream = await sprite.killSession('4', 'SIGINT', '0s');
      const all = [];
      for await (const e of stream) all.push(e);
      return all;
    },
  );
  assert.equal(requests[0]?.method, 'POST');
  assert.equal(requests[0]?.url.pathname, '/v1/sprites/box/exec/4/kill');
  assert.equal(requests[0]?.url.searchParams.get('signal'), 'SIGINT');
  assert.equal(requests[0]?.url.searchParams.get('timeout'), '0s');
  assert.deepEqual(
    events.map((e) => e.type),
    ['exited'],
  );
});
