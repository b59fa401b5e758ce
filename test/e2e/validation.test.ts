import assert from 'node:assert/strict';
import { request } from 'node:http';
import { test } from 'node:test';
import { startTestDaemon } from '../helpers/daemon.js';
import { wsHandshake } from '../helpers/exec.js';

function postTolerant(url: string, token: string, body: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    let answered = false;
    const req = request(
      url,
      {
        method: 'POST',
        headers: {
          authorization: `Bearer ${token}`,
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
        },
      },
      (res) => {
        answered = true;
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
        res.on('error', () => resolve({ status: res.statusCode ?? 0, body: text }));
      },
    );
    req.on('error', (e) => {
      if (!answered) reject(e);
    });
    req.end(body);
  });
}

interface ErrorBody {
  error: string;
  message: string;
}

test('bad input gets the right 4xx with an APIError body, and the daemon keeps serving', async (t) => {
  const d = await startTestDaemon(t);
  await d.createSprite('valid-one', { ram_mb: 256, storage_gb: 1 });
  const expect4xx = async (
    status: number,
    code: string | RegExp,
    method: string,
    path: string,
    body?: unknown,
    opts: Parameters<typeof d.api>[3] = {},
  ) => {
    const r = await d.api<ErrorBody>(method, path, body, opts);
    assert.equal(r.status, status, `${method} ${path} ${JSON.stringify(body)?.slice(0, 80)} → ${r.status} ${r.text}`);
    assert.equal(typeof r.body, 'object', `JSON body: ${r.text}`);
    if (typeof code === 'string') assert.equal(r.body.error, code);
    else assert.match(r.body.error, code);
    assert.ok(r.body.message.length > 0, 'a message says what went wrong');
    assert.equal(r.headers.get('content-type')?.split(';')[0], 'application/json');
    return r.body;
  };

  const json = { 'content-type': 'application/json' };
  await expect4xx(400, 'invalid_json', 'POST', '/v1/sprites', undefined, { rawBody: '{"name": "x",', headers: json });
  await expect4xx(400, 'invalid_json', 'POST', '/v1/sprites', undefined, { rawBody: 'not json at all', headers: json });
  await expect4xx(400, 'validation_failed', 'POST', '/v1/sprites', undefined, { rawBody: '[1,2]', headers: json });
  await expect4xx(400, 'validation_failed', 'POST', '/v1/sprites', {});
  await expect4xx(400, 'validation_failed', 'POST', '/v1/sprites', { name: 5 });
  await expect4xx(400, 'validation_failed', 'POST', '/v1/sprites', { name: 'typed', config: { ram_mb: '512' } });
  await expect4xx(400, 'validation_failed', 'POST', '/v1/sprites', { name: 'typed', config: { cpus: 1.5 } });
  await expect4xx(400, 'validation_failed', 'POST', '/v1/sprites', { name: 'typed', config: { ram_mb: 10 ** 9 } });
  await expect4xx(400, 'validation_failed', 'POST', '/v1/sprites', { name: 'typed', labels: 'not-a-list' });
  await expect4xx(400, 'validation_failed', 'POST', '/v1/sprites', { name: 'typed', environment: { 'BAD KEY': 'x' } });
  await expect4xx(400, 'validation_failed', 'POST', '/v1/sprites', {
    name: 'typed',
    url_settings: { auth: 'everyone' },
  });
  for (const name of ['', 'UPPER', '-dash', 'dash-', 'under_score', 'a'.repeat(64), 'dots.no', 'spaces no', '../etc']) {
    const body = await expect4xx(400, /invalid_name|validation_failed/, 'POST', '/v1/sprites', { name });
    assert.ok(body.message.includes('name'));
  }
  // The server may answer 413 and close before the client has sent the whole body, so this
  // one goes through a client that reads the answer even if its upload is cut short.
  const huge = await postTolerant(
    `${d.url}/v1/sprites`,
    d.adminToken,
    JSON.stringify({ name: 'huge', pad: 'y'.repeat(2 * 1024 * 1024) }),
  );
  assert.equal(huge.status, 413);
  assert.equal((JSON.parse(huge.body) as ErrorBody).error, 'payload_too_large');
  await expect4xx(415, 'unsupported_media_type', 'POST', '/v1/sprites', undefined, {
    rawBody: 'name=x',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
  });
  await expect4xx(401, 'unauthorized', 'POST', '/v1/sprites', { name: 'noauth' }, { token: null });
  await expect4xx(400, 'validation_failed', 'PUT', '/v1/sprites/valid-one', { labels: [1, 2] });
  await expect4xx(400, 'validation_failed', 'GET', '/v1/sprites?max_results=abc');
  await expect4xx(404, 'sprite_not_found', 'GET', '/v1/sprites/NOT-VALID');
  await expect4xx(404, 'sprite_not_found', 'GET', `/v1/sprites/${'x'.repeat(300)}`);
  await expect4xx(404, 'not_found', 'GET', '/v1/nothing-here');
  await expect4xx(404, 'not_found', 'PATCH', '/v1/sprites/valid-one');

  // Exec with bad parameters fails the handshake with a JSON body.
  const ws = d.url.replace(/^http/, 'ws');
  for (const [query, status, code] of [
    ['stdin=false', 400, 'bad_request'],
    ['cmd=true&rows=0&tty=true', 400, 'bad_request'],
    ['cmd=true&env=NOEQUALS', 400, 'bad_request'],
  ] as const) {
    const r = await wsHandshake(`${ws}/v1/sprites/valid-one/exec?${query}`, d.adminToken);
    assert.equal(r.status, status, `exec?${query}: ${r.body}`);
    assert.equal((JSON.parse(r.body) as ErrorBody).error, code);
  }
  assert.equal((await wsHandshake(`${ws}/v1/sprites/valid-one/exec?cmd=true`, null)).status, 401);
  assert.equal((await wsHandshake(`${ws}/v1/sprites/nope/exec?cmd=true`, d.adminToken)).status, 404);
  assert.equal((await wsHandshake(`${ws}/v1/sprites/valid-one/nothing`, d.adminToken)).status, 404);

  // Unknown fields are ignored; nothing stored was lost; the daemon still answers.
  const ok = await d.api<{ name: string }>('POST', '/v1/sprites', {
    name: 'after-abuse',
    config: { ram_mb: 256, storage_gb: 1, gpu: 'none' },
    unknown: [1],
  });
  assert.equal(ok.status, 201, ok.text);
  const list = await d.api<{ sprites: { name: string }[] }>('GET', '/v1/sprites');
  assert.deepEqual(
    list.body.sprites.map((s) => s.name),
    ['valid-one', 'after-abuse'],
  );
  const r = await d.exec('valid-one', ['echo', 'still here']);
  assert.equal(r.stdout, 'still here\n');
  assert.doesNotMatch(d.logTail(400), /"level":50/, 'no request reached the internal error path');
});
