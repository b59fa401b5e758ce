import assert from 'node:assert/strict';
import { test } from 'node:test';
import WebSocket from 'ws';
import { startTestDaemon } from '../helpers/daemon.js';
import { execInSprite } from '../helpers/exec.js';

test("organization A's token gets 404 for organization B's sprites on every endpoint", async (t) => {
  const d = await startTestDaemon(t);
  const mkOrg = async (name: string) => {
    const org = await d.api('POST', '/v1/organizations', { name });
    assert.equal(org.status, 201, org.text);
    const tok = await d.api<{ token: string }>('POST', `/v1/organizations/${name}/tokens`, { description: 'test' });
    assert.equal(tok.status, 201, tok.text);
    assert.match(tok.body.token, /^spr_/);
    return tok.body.token;
  };
  const tokenA = await mkOrg('org-a');
  const tokenB = await mkOrg('org-b');
  d.orgTokens.push(tokenA, tokenB);
  await d.createSprite('b-only', undefined, tokenB);

  const asA = (method: string, path: string, body?: unknown) =>
    d.api<{ error: string }>(method, path, body, { token: tokenA });
  for (const [method, path, body] of [
    ['GET', '/v1/sprites/b-only', undefined],
    ['PUT', '/v1/sprites/b-only', { labels: ['x'] }],
    ['POST', '/v1/sprites/b-only/upgrade', undefined],
    ['DELETE', '/v1/sprites/b-only', undefined],
  ] as const) {
    const r = await asA(method, path, body);
    assert.equal(r.status, 404, `${method} ${path} as org A`);
    assert.equal(r.body.error, 'sprite_not_found');
  }
  await assert.rejects(
    execInSprite(d.url, tokenA, 'b-only', ['true']),
    (e: Error & { status?: number }) => e.status === 404,
  );
  const listA = await d.api<{ sprites: unknown[] }>('GET', '/v1/sprites', undefined, { token: tokenA });
  assert.deepEqual(listA.body.sprites, []);

  // B still has it, untouched; org A may reuse the name for its own sprite.
  const asB = await d.api<{ labels: string[]; organization: string }>('GET', '/v1/sprites/b-only', undefined, {
    token: tokenB,
  });
  assert.equal(asB.status, 200);
  assert.deepEqual(asB.body.labels, []);
  assert.equal(asB.body.organization, 'org-b');
  assert.equal((await execInSprite(d.url, tokenB, 'b-only', ['echo', 'mine'])).stdout, 'mine\n');
  await d.createSprite('b-only', undefined, tokenA);

  // Only the admin token administers organizations and tokens.
  assert.equal((await d.api('POST', '/v1/organizations', { name: 'org-c' }, { token: tokenA })).status, 403);
  assert.equal((await d.api('POST', '/v1/organizations/org-b/tokens', {}, { token: tokenA })).status, 403);
  assert.equal((await d.api('POST', '/v1/organizations/nope/tokens', {})).status, 404);
  // The official token call's FlyV1 scheme works with the admin token.
  const fly = await d.api<{ token: string }>(
    'POST',
    '/v1/organizations/org-b/tokens',
    { description: 'Sprite SDK Token' },
    { token: null, headers: { authorization: `FlyV1 ${d.adminToken}` } },
  );
  assert.equal(fly.status, 201);

  // Missing, malformed and unknown tokens.
  for (const headers of [{}, { authorization: 'Basic abc' }, { authorization: 'Bearer spr_nope' }] as Record<
    string,
    string
  >[]) {
    const r = await d.api<{ error: string }>('GET', '/v1/sprites', undefined, { token: null, headers });
    assert.equal(r.status, 401);
    assert.equal(r.body.error, 'unauthorized');
    assert.equal(r.headers.get('sprite-version'), '0.1.0');
  }
  await assert.rejects(
    execInSprite(d.url, 'spr_nope', 'b-only', ['true']),
    (e: Error & { status?: number }) => e.status === 401,
  );
});

test('browsers: the token as a WebSocket sub-protocol is accepted and taken out; CORS preflight and headers', async (t) => {
  const d = await startTestDaemon(t);
  await d.createSprite('br', { ram_mb: 256, storage_gb: 1 });
  const url = `${d.url.replace('http', 'ws')}/v1/sprites/br/exec?cmd=echo&cmd=hi&path=echo&stdin=false`;
  const open = (token: string) =>
    new Promise<{ protocol: string; out: string } | { status: number }>((resolve) => {
      const ws = new WebSocket(url, ['sprites', `sprites.bearer.${Buffer.from(token).toString('base64url')}`]);
      let out = '';
      ws.on('message', (data: Buffer, binary: boolean) => {
        if (binary && data[0] === 1) out += data.subarray(1).toString();
      });
      ws.on('unexpected-response', (_req, res) => {
        resolve({ status: res.statusCode ?? 0 });
        ws.terminate();
      });
      ws.on('close', () => resolve({ protocol: ws.protocol, out }));
      ws.on('error', () => undefined);
    });
  assert.deepEqual(
    await open(d.adminToken),
    { protocol: 'sprites', out: 'hi\n' },
    'only the token-free protocol is echoed',
  );
  assert.deepEqual(await open('spr_wrong'), { status: 401 });

  const preflight = await fetch(`${d.url}/v1/sprites/br`, {
    method: 'OPTIONS',
    headers: {
      origin: 'http://page.example',
      'access-control-request-method': 'DELETE',
      'access-control-request-headers': 'authorization',
    },
  });
  assert.equal(preflight.status, 204);
  assert.match(preflight.headers.get('access-control-allow-headers') ?? '', /authorization/);
  assert.match(preflight.headers.get('access-control-allow-methods') ?? '', /DELETE/);
  const got = await d.api('GET', '/v1/sprites/br', undefined, { headers: { origin: 'http://page.example' } });
  assert.equal(got.headers.get('access-control-allow-origin'), '*');
  assert.match(got.headers.get('access-control-expose-headers') ?? '', /sprite-version/i);
  const streamed = await fetch(`${d.url}/v1/sprites/br/checkpoint`, {
    method: 'POST',
    headers: { authorization: `Bearer ${d.adminToken}`, origin: 'http://page.example' },
  });
  await streamed.text();
  assert.equal(streamed.headers.get('access-control-allow-origin'), '*', 'streamed answers carry CORS headers too');
});
