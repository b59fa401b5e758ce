// Organization A's credentials against organization B's sprite, on every endpoint the daemon
// serves: REST, per-sprite HTTP, WebSockets (header token and sub-protocol token) and the
// sprite URL (token and login cookie). Every answer is 401/403/404 and nothing of B's changes.
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { test } from 'node:test';
import WebSocket from 'ws';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.js';

async function orgToken(d: TestDaemon, name: string): Promise<string> {
  assert.equal((await d.api('POST', '/v1/organizations', { name })).status, 201);
  const token = (await d.api<{ token: string }>('POST', `/v1/organizations/${name}/tokens`, { description: 'tenant' }))
    .body.token;
  d.orgTokens.push(token);
  return token;
}

function wsStatus(url: string, opts: { token?: string; protocolToken?: string }): Promise<number> {
  return new Promise((resolve) => {
    const protocols = opts.protocolToken
      ? [`sprites.bearer.${Buffer.from(opts.protocolToken).toString('base64url')}`]
      : [];
    const ws = new WebSocket(url, protocols, { headers: opts.token ? { authorization: `Bearer ${opts.token}` } : {} });
    ws.on('unexpected-response', (_req, res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    ws.on('open', () => {
      ws.terminate();
      resolve(101);
    });
    ws.on('error', () => undefined);
  });
}

function urlGet(
  d: TestDaemon,
  label: string,
  headers: Record<string, string>,
): Promise<{ status: number; body: string; setCookie: string[] }> {
  const { port } = new URL(d.url);
  return new Promise((resolve, reject) => {
    const r = request(
      { host: '127.0.0.1', port, path: '/', headers: { host: `${label}.sprites.localhost:${port}`, ...headers } },
      (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body, setCookie: res.headers['set-cookie'] ?? [] }));
      },
    );
    r.on('error', reject);
    r.end();
  });
}

test("organization A's credentials reach nothing of organization B's sprite, on any endpoint", async (t) => {
  const d = await startTestDaemon(t, { env: { SPRITES_PREBOOTED: '0' } });
  const a = await orgToken(d, 'tenant-a');
  const b = await orgToken(d, 'tenant-b');
  await d.createSprite('mine', { ram_mb: 256, storage_gb: 1 }, a);
  await d.createSprite('theirs', { ram_mb: 256, storage_gb: 1 }, b);
  // B's state: a file, an app on 8080, a checkpoint, a service, a policy, a detached session.
  const asB = (method: string, path: string, body?: unknown) =>
    d.api<Record<string, unknown>>(method, path, body, { token: b });
  assert.equal((await d.exec('theirs', ['sh', '-c', 'echo secret-of-b > /home/sprite/secret'], { token: b })).code, 0);
  await d.exec(
    'theirs',
    [
      'sh',
      '-c',
      'mkdir -p /tmp/www && echo app-of-b > /tmp/www/index.html && cd /tmp/www && setsid python3 -m http.server 8080 </dev/null >/dev/null 2>&1 &',
    ],
    { token: b },
  );
  assert.equal((await asB('POST', '/v1/sprites/theirs/checkpoint', { comment: 'b' })).status, 200);
  assert.equal((await asB('PUT', '/v1/sprites/theirs/services/svc', { cmd: 'sleep', args: ['600'] })).status, 200);
  assert.equal(
    (await asB('POST', '/v1/sprites/theirs/policy/network', { rules: [{ domain: 'example.com', action: 'allow' }] }))
      .status,
    204,
  );
  const before = {
    sprite: (await asB('GET', '/v1/sprites/theirs')).text,
    checkpoints: (await asB('GET', '/v1/sprites/theirs/checkpoints')).text,
    services: (await asB('GET', '/v1/sprites/theirs/services')).text,
    policy: (await asB('GET', '/v1/sprites/theirs/policy/network')).text,
  };

  const asA = (
    method: string,
    path: string,
    body?: unknown,
    opts: { rawBody?: string; headers?: Record<string, string> } = {},
  ) => d.api<{ error?: string }>(method, path, body, { token: a, ...opts });
  const base = '/v1/sprites/theirs';
  const matrix: [string, string, unknown?, { rawBody?: string; headers?: Record<string, string> }?][] = [
    ['GET', base],
    ['PUT', base, { labels: ['x'] }],
    ['DELETE', base],
    ['POST', `${base}/upgrade`],
    ['GET', `${base}/exec`],
    ['POST', `${base}/exec?cmd=cat&cmd=/home/sprite/secret`, undefined, { rawBody: '' }],
    ['POST', `${base}/exec/1/kill`],
    ['GET', `${base}/fs/read?path=/home/sprite/secret`],
    ['GET', `${base}/fs/list?path=/home/sprite`],
    ['GET', `${base}/fs/stat?path=/home/sprite/secret`],
    [
      'PUT',
      `${base}/fs/write?path=/home/sprite/secret`,
      undefined,
      { rawBody: 'overwritten', headers: { 'content-type': 'application/octet-stream' } },
    ],
    ['DELETE', `${base}/fs/delete?path=/home/sprite/secret`],
    ['POST', `${base}/fs/rename`, { source: '/home/sprite/secret', dest: '/home/sprite/x' }],
    ['POST', `${base}/fs/copy`, { source: '/home/sprite/secret', dest: '/home/sprite/y' }],
    ['POST', `${base}/fs/chmod`, { path: '/home/sprite/secret', mode: '0777' }],
    ['POST', `${base}/fs/chown`, { path: '/home/sprite/secret', uid: 0, gid: 0 }],
    ['POST', `${base}/fs/mkdir`, { path: '/home/sprite/d' }],
    ['GET', `${base}/services`],
    ['GET', `${base}/services/svc`],
    ['PUT', `${base}/services/evil`, { cmd: 'true' }],
    ['DELETE', `${base}/services/svc`],
    ['POST', `${base}/services/svc/stop`],
    ['POST', `${base}/services/svc/start`],
    ['GET', `${base}/services/svc/logs`],
    ['POST', `${base}/checkpoint`, {}],
    ['GET', `${base}/checkpoints`],
    ['GET', `${base}/checkpoints/v1`],
    ['POST', `${base}/checkpoints/v1/restore`],
    ['DELETE', `${base}/checkpoints/v1`],
    ['GET', `${base}/policy/network`],
    ['POST', `${base}/policy/network`, { rules: [] }],
    ['POST', '/v1/organizations/tenant-b/tokens', { description: 'steal' }],
    ['POST', '/v1/organizations', { name: 'tenant-c' }],
  ];
  for (const [method, path, body, opts] of matrix) {
    const r = await asA(method, path, body, opts);
    assert.ok([401, 403, 404].includes(r.status), `${method} ${path} as A: ${r.status} ${r.text.slice(0, 200)}`);
    assert.ok(!r.text.includes('secret-of-b'), `${method} ${path} leaked B's file`);
  }
  const listed = await d.api<{ sprites: { name: string }[] }>('GET', '/v1/sprites', undefined, { token: a });
  assert.deepEqual(
    listed.body.sprites.map((s) => s.name),
    ['mine'],
  );

  const ws = d.url.replace(/^http/, 'ws');
  for (const endpoint of [
    'exec?cmd=cat&cmd=/home/sprite/secret',
    'exec/1',
    'fs/watch?path=/home/sprite',
    'ports/watch',
    'proxy',
  ]) {
    assert.equal(await wsStatus(`${ws}${base}/${endpoint}`, { token: a }), 404, `WS ${endpoint} with A's header token`);
    assert.equal(
      await wsStatus(`${ws}${base}/${endpoint}`, { protocolToken: a }),
      404,
      `WS ${endpoint} with A's sub-protocol token`,
    );
  }

  // The sprite URL: A's token, and A's login cookie from A's own sprite, open nothing of B's.
  assert.equal(
    (await urlGet(d, 'theirs-tenant-b', { authorization: `Bearer ${b}` })).body.includes('app-of-b'),
    true,
    "B's app answers B",
  );
  const withToken = await urlGet(d, 'theirs-tenant-b', { authorization: `Bearer ${a}` });
  assert.equal(withToken.status, 401);
  assert.ok(!withToken.body.includes('app-of-b'));
  const { port } = new URL(d.url);
  const login = await new Promise<string[]>((resolve, reject) => {
    const form = new URLSearchParams({ token: a, next: '/' }).toString();
    const r = request(
      {
        host: '127.0.0.1',
        port,
        method: 'POST',
        path: '/__sprites/login',
        headers: {
          host: `mine-tenant-a.sprites.localhost:${port}`,
          'content-type': 'application/x-www-form-urlencoded',
          'content-length': form.length,
        },
      },
      (res) => {
        res.resume();
        resolve(res.headers['set-cookie'] ?? []);
      },
    );
    r.on('error', reject);
    r.end(form);
  });
  const cookie = login[0]?.split(';')[0] ?? '';
  assert.match(cookie, /^sprites_session=/);
  const withCookie = await urlGet(d, 'theirs-tenant-b', { cookie });
  assert.equal(withCookie.status, 401);
  assert.ok(!withCookie.body.includes('app-of-b'));
  assert.equal(await wsStatus(`ws://127.0.0.1:${port}/`, {}), 404, 'a WebSocket to an unknown host is no API');

  // Nothing of B's changed.
  assert.equal((await d.exec('theirs', ['cat', '/home/sprite/secret'], { token: b })).stdout, 'secret-of-b\n');
  assert.equal((await asB('GET', '/v1/sprites/theirs')).text, before.sprite);
  assert.equal((await asB('GET', '/v1/sprites/theirs/checkpoints')).text, before.checkpoints);
  assert.equal((await asB('GET', '/v1/sprites/theirs/policy/network')).text, before.policy);
  const services = JSON.parse((await asB('GET', '/v1/sprites/theirs/services')).text) as { name: string }[];
  assert.deepEqual(
    services.map((s) => s.name),
    (JSON.parse(before.services) as { name: string }[]).map((s) => s.name),
  );
});
