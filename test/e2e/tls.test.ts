import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import { test } from 'node:test';
import { startTestDaemon } from '../helpers/daemon.js';
import { freePort, pollUntil } from '../helpers/ws.js';

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

test('with a certificate, the API and sprite URLs are served over HTTPS', async (t) => {
  const dir = mkdtempSync('/tmp/spr-tls-');
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const cert = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      key,
      '-out',
      cert,
      '-days',
      '1',
      '-subj',
      '/CN=sprites.localhost',
      '-addext',
      'subjectAltName=DNS:*.sprites.localhost,IP:127.0.0.1',
    ],
    { stdio: 'ignore' },
  );
  const port = await freePort();
  const d = await startTestDaemon(t, {
    listen: `127.0.0.1:${port}`,
    env: { SPRITES_TLS_CERT: cert, SPRITES_TLS_KEY: key },
  });
  const call = (
    path: string,
    opts: { host?: string; method?: string; body?: string; headers?: Record<string, string> } = {},
  ) =>
    new Promise<Answer>((done, fail) => {
      const headers: Record<string, string> = { ...(opts.host ? { host: opts.host } : {}), ...opts.headers };
      const r = request(
        { host: '127.0.0.1', port, path, method: opts.method ?? 'GET', headers, ca: execFileSync('cat', [cert]) },
        (res) => {
          let text = '';
          res.on('data', (c: Buffer) => (text += c.toString()));
          res.on('end', () => done({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
        },
      );
      r.on('error', fail);
      r.end(opts.body);
    });
  const auth = { authorization: `Bearer ${d.adminToken}`, 'content-type': 'application/json' };
  const created = await call('/v1/sprites', {
    method: 'POST',
    headers: auth,
    body: JSON.stringify({ name: 'secure', config: { ram_mb: 256, storage_gb: 1 } }),
  });
  assert.equal(created.status, 201, created.body);
  const url = (JSON.parse(created.body) as { url: string }).url;
  assert.equal(url, `https://secure-default.sprites.localhost:${port}`);
  const host = new URL(url).host;
  const file = await call('/v1/sprites/secure/fs/write?path=/home/sprite/site/hello.txt', {
    method: 'PUT',
    headers: { authorization: `Bearer ${d.adminToken}`, 'content-type': 'application/octet-stream' },
    body: 'over https\n',
  });
  assert.equal(file.status, 200, file.body);
  const service = await call('/v1/sprites/secure/services/web?duration=0', {
    method: 'PUT',
    headers: auth,
    body: JSON.stringify({
      cmd: 'python3',
      args: ['-m', 'http.server', '8080'],
      http_port: 8080,
      dir: '/home/sprite/site',
    }),
  });
  assert.equal(service.status, 200, service.body);
  const page = await pollUntil(
    async () => {
      const r = await call('/hello.txt', { host, headers: { authorization: `Bearer ${d.adminToken}` } });
      return r.status === 200 ? r : null;
    },
    20_000,
    'the app behind the HTTPS URL',
  );
  assert.equal(page.body, 'over https\n');
  const login = await call('/__sprites/login', {
    host,
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: `token=${encodeURIComponent(d.adminToken)}`,
  });
  assert.equal(login.status, 303);
  assert.match(String(login.headers['set-cookie']), /; Secure/, 'the login cookie is Secure over HTTPS');
  // The shared teardown speaks plain fetch, which does not trust this certificate.
  assert.equal(
    (await call('/v1/sprites/secure', { method: 'DELETE', headers: { authorization: `Bearer ${d.adminToken}` } }))
      .status,
    204,
  );
});
