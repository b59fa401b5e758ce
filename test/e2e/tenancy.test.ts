// Organization limits (ADR 0023): the admin sets them per organization; creates, wakes and
// concurrent requests never pass them; an idle warm sprite makes room before anything is
// refused; the admin organization is not bound by a tenant's limits.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type WebSocket from 'ws';
import type { OrganizationLimitsResponse } from '@sprites/protocol';
import { startTestDaemon, type ApiResponse, type TestDaemon } from '../helpers/daemon.js';
import { wsHandshake } from '../helpers/exec.js';
import { execUrl, pollUntil, rawExec } from '../helpers/ws.js';

interface ErrorBody {
  error: string;
  message: string;
  limit?: number;
  current_count?: number;
  field?: string;
}

async function orgToken(d: TestDaemon, name: string): Promise<string> {
  assert.equal((await d.api('POST', '/v1/organizations', { name })).status, 201);
  const res = await d.api<{ token: string }>('POST', `/v1/organizations/${name}/tokens`, { description: 'tenant' });
  assert.equal(res.status, 201, res.text);
  d.orgTokens.push(res.body.token);
  return res.body.token;
}

const create = (d: TestDaemon, token: string, name: string, config: { ram_mb: number; storage_gb: number }) =>
  d.api<ErrorBody & { status: string }>('POST', '/v1/sprites', { name, config }, { token });

function assertRefused(
  res: ApiResponse<ErrorBody>,
  status: number,
  error: string,
  limit: number,
  current: number,
): void {
  assert.equal(res.status, status, res.text);
  assert.equal(res.headers.get('content-type')?.split(';')[0], 'application/json');
  assert.equal(res.body.error, error, res.text);
  assert.equal(res.body.limit, limit, res.text);
  assert.equal(res.body.current_count, current, res.text);
  assert.ok(res.body.message.length > 20, 'the message says what to do');
}

test('limits are set by the admin, validated, and hold against over-limit and concurrent creates', async (t) => {
  // Long idle delays: no sprite goes warm (and could be made room for) during this test.
  const d = await startTestDaemon(t, {
    env: { SPRITES_IDLE_WARM_SECONDS: '600', SPRITES_PREBOOTED: '1', SPRITES_ORG_LIMITS: 'sprites=7' },
  });
  const acme = await orgToken(d, 'acme');
  const limitsOf = (org: string, token: string | undefined = undefined) =>
    d.api<OrganizationLimitsResponse & ErrorBody>('GET', `/v1/organizations/${org}/limits`, undefined, { token });
  const setLimits = (org: string, body: unknown, token: string | undefined = undefined) =>
    d.api<OrganizationLimitsResponse & ErrorBody>('PUT', `/v1/organizations/${org}/limits`, body, { token });

  // Defaults come from the daemon's configuration: SPRITES_ORG_LIMITS over the built-in ones.
  const initial = await limitsOf('acme', acme);
  assert.equal(initial.status, 200, initial.text);
  assert.deepEqual(initial.body.limits, {
    sprite_limit: 7,
    running_limit: 10,
    memory_limit_mb: 20480,
    storage_limit_gb: 1000,
  });
  assert.deepEqual(initial.body.custom, {});
  assert.deepEqual(initial.body.usage, { sprite_count: 0, live_count: 0, memory_used_mb: 0, storage_used_gb: 0 });

  // Only the admin sets limits; a tenant sees its own and nobody else's.
  assert.equal((await setLimits('acme', { running_limit: 100 }, acme)).status, 403);
  assert.equal((await setLimits('default', { running_limit: 0 }, acme)).status, 403);
  assert.equal((await limitsOf('default', acme)).status, 403);
  assert.equal((await limitsOf('nope')).status, 404);
  assert.equal((await setLimits('nope', { running_limit: 1 })).body.error, 'organization_not_found');

  // Bad input is a 400 naming the field, and changes nothing.
  for (const [body, field] of [
    [{ running_limit: -1 }, 'running_limit'],
    [{ running_limit: 1.5 }, 'running_limit'],
    [{ running_limit: '2' }, 'running_limit'],
    [{ sprite_limit: 2 ** 31 }, 'sprite_limit'],
    [{ running_limits: 2 }, 'running_limits'],
    [[2], undefined],
    [null, undefined],
  ] as const) {
    const res = await setLimits('acme', body);
    assert.equal(res.status, 400, `${JSON.stringify(body)}: ${res.text}`);
    assert.equal(res.body.error, 'validation_failed');
    assert.equal(res.body.field, field);
  }
  const notJson = await d.api<ErrorBody>('PUT', '/v1/organizations/acme/limits', undefined, {
    rawBody: '{"running_limit":',
    headers: { 'content-type': 'application/json' },
  });
  assert.equal(notJson.status, 400);
  assert.deepEqual((await limitsOf('acme')).body.custom, {});

  const set = await setLimits('acme', { sprite_limit: 3, running_limit: 2, memory_limit_mb: 768, storage_limit_gb: 5 });
  assert.equal(set.status, 200, set.text);
  assert.deepEqual(set.body.limits, { sprite_limit: 3, running_limit: 2, memory_limit_mb: 768, storage_limit_gb: 5 });
  assert.deepEqual(set.body.defaults, initial.body.defaults);

  const small = { ram_mb: 256, storage_gb: 1 };
  // Four creates at once against a running limit of 2 (nothing idle to make room): two pass.
  const burst = await Promise.all(['c1', 'c2', 'c3', 'c4'].map((n) => create(d, acme, n, small)));
  assert.equal(burst.filter((r) => r.status === 201).length, 2, burst.map((r) => r.text).join('\n'));
  for (const r of burst.filter((x) => x.status !== 201))
    assertRefused(r, 429, 'concurrent_sprite_limit_exceeded', 2, 2);

  // Three at once against a sprite limit of 3 with two made: one passes.
  assert.equal((await setLimits('acme', { running_limit: 10 })).status, 200);
  const second = await Promise.all(['d1', 'd2', 'd3'].map((n) => create(d, acme, n, small)));
  assert.equal(second.filter((r) => r.status === 201).length, 1, second.map((r) => r.text).join('\n'));
  for (const r of second.filter((x) => x.status !== 201)) assertRefused(r, 403, 'sprite_limit_exceeded', 3, 3);

  // Memory of the live sprites (3 × 256 of 768 MB), then disk (3 of 5 GB).
  assert.equal((await setLimits('acme', { sprite_limit: 10 })).status, 200);
  assertRefused(await create(d, acme, 'm1', small), 429, 'memory_limit_exceeded', 768, 768);
  assertRefused(await create(d, acme, 's1', { ram_mb: 256, storage_gb: 3 }), 403, 'storage_limit_exceeded', 5, 3);

  // The list's counters carry the organization's limits and usage (also at the top level).
  const list = await d.api<{ sprites: unknown[]; org: Record<string, number | string> } & Record<string, unknown>>(
    'GET',
    '/v1/sprites',
    undefined,
    { token: acme },
  );
  assert.equal(list.body.sprites.length, 3);
  const expected = {
    name: 'acme',
    running: 3,
    warm: 0,
    cold: 0,
    running_limit: 10,
    warm_limit: 10,
    sprite_limit: 10,
    memory_limit_mb: 768,
    storage_limit_gb: 5,
    sprite_count: 3,
    memory_used_mb: 768,
    storage_used_gb: 3,
  };
  assert.deepEqual(list.body.org, expected);
  for (const [k, v] of Object.entries(expected)) assert.equal(list.body[k], v, k);

  // The admin organization is not bound by acme's limits and reports its own (host) limits.
  await d.createSprite('boss', { ram_mb: 1024, storage_gb: 20 });
  const admin = await limitsOf('default');
  assert.equal(admin.body.limits.running_limit, 4096, 'SPRITES_MAX_SPRITES');
  assert.ok(admin.body.limits.sprite_limit >= 1000);
  assert.deepEqual(admin.body.usage, { sprite_count: 1, live_count: 1, memory_used_mb: 1024, storage_used_gb: 20 });
  assert.equal((await d.api<{ org: { running_limit: number } }>('GET', '/v1/sprites')).body.org.running_limit, 4096);

  // null returns a limit to the default; then the memory-refused create fits.
  const reset = await setLimits('acme', { memory_limit_mb: null });
  assert.equal(reset.body.limits.memory_limit_mb, 20480);
  assert.deepEqual(reset.body.custom, { sprite_limit: 10, running_limit: 10, storage_limit_gb: 5 });
  assert.equal((await create(d, acme, 'm1', small)).status, 201);
  // Deleting frees what a sprite held.
  const names = (
    await d.api<{ sprites: { name: string }[] }>('GET', '/v1/sprites', undefined, { token: acme })
  ).body.sprites.map((s) => s.name);
  for (const name of names)
    assert.equal((await d.api('DELETE', `/v1/sprites/${name}`, undefined, { token: acme })).status, 204);
  assert.deepEqual((await limitsOf('acme', acme)).body.usage, {
    sprite_count: 0,
    live_count: 0,
    memory_used_mb: 0,
    storage_used_gb: 0,
  });
});

test('at the running limit a cold sprite wakes in place of the least recently used warm one; with every live sprite busy it is a 429', async (t) => {
  const d = await startTestDaemon(t, {
    env: { SPRITES_IDLE_WARM_SECONDS: '1', SPRITES_IDLE_COLD_SECONDS: '600', SPRITES_PREBOOTED: '0' },
  });
  const beta = await orgToken(d, 'beta');
  assert.equal((await d.api('PUT', '/v1/organizations/beta/limits', { running_limit: 2 })).status, 200);
  const status = async (name: string) =>
    (await d.api<{ status: string }>('GET', `/v1/sprites/${name}`, undefined, { token: beta })).body.status;
  const waitFor = (name: string, want: string) =>
    pollUntil(async () => (await status(name)) === want, 30_000, `${name} ${want}`);
  const small = { ram_mb: 256, storage_gb: 1 };

  for (const n of ['w1', 'w2']) assert.equal((await create(d, beta, n, small)).status, 201);
  await waitFor('w1', 'warm');
  await waitFor('w2', 'warm');
  // w2 is used again, so w1 is the least recently used.
  assert.equal((await d.exec('w2', ['true'], { token: beta })).code, 0);
  await waitFor('w2', 'warm');

  // A create at the limit puts the least recently used warm sprite to cold.
  assert.equal((await create(d, beta, 'w3', small)).status, 201);
  assert.equal(await status('w1'), 'cold');
  assert.equal(await status('w2'), 'warm');
  await d.waitForLog(/"event":"sprite\.evict"/);

  // A request to the cold w1 wakes it; w2 (older than w3) makes room.
  await waitFor('w3', 'warm');
  const woke = await d.exec('w1', ['echo', 'awake'], { token: beta });
  assert.equal(woke.stdout, 'awake\n');
  assert.equal(await status('w1'), 'running');
  assert.equal(await status('w2'), 'cold');
  assert.notEqual(await status('w3'), 'cold');

  // With both live sprites busy (an attached command each), waking w2 is refused.
  const held = new Map<string, WebSocket>();
  const sessions = ['w1', 'w3'].map((name) =>
    rawExec(
      execUrl(d.url, name, [
        ['cmd', 'sleep'],
        ['cmd', '600'],
      ]),
      beta,
      (ws) => held.set(name, ws),
      120_000,
    ).catch(() => undefined),
  );
  t.after(() => held.forEach((ws) => ws.terminate()));
  await pollUntil(() => held.size === 2, 30_000, 'both commands attached');
  await waitFor('w3', 'running');
  const refusedWs = await wsHandshake(execUrl(d.url, 'w2', [['cmd', 'true']]), beta);
  assert.equal(refusedWs.status, 429, refusedWs.body);
  const body = JSON.parse(refusedWs.body) as ErrorBody;
  assert.deepEqual([body.error, body.limit, body.current_count], ['concurrent_sprite_limit_exceeded', 2, 2]);
  assertRefused(
    await d.api<ErrorBody>('GET', '/v1/sprites/w2/fs/list?path=/', undefined, { token: beta }),
    429,
    'concurrent_sprite_limit_exceeded',
    2,
    2,
  );
  assert.equal(await status('w2'), 'cold');
  assert.equal(await status('w1'), 'running');
  const counters = (
    await d.api<{ org: { running_limit: number; warm_limit: number } }>('GET', '/v1/sprites', undefined, {
      token: beta,
    })
  ).body.org;
  assert.deepEqual([counters.running_limit, counters.warm_limit], [2, 2]);

  // Once w3's client has gone (its command is ended 10 s later) and it idles, w2 wakes in its place.
  held.get('w3')?.terminate();
  await waitFor('w3', 'warm');
  assert.equal((await d.exec('w2', ['true'], { token: beta })).code, 0);
  assert.equal(await status('w3'), 'cold');
  assert.equal(await status('w1'), 'running', 'the busy one stays');
  held.get('w1')?.terminate();
  await Promise.all(sessions);
});
