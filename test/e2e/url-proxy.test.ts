import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { connect } from 'node:net';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import WebSocket from 'ws';
import { ConnectionError, SpritesClient } from '@sprites/sdk';
import { startTestDaemon } from '../helpers/daemon.js';
import { freePort, pollUntil } from '../helpers/ws.js';

const REPO = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const CLI = join(REPO, 'packages', 'cli', 'dist', 'sprite.cjs');
const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));

/** The app inside the sprite: HTTP and a WebSocket echo on 8080, TCP echo on 9000 and [::1]:9001. */
const APP = String.raw`
import socket, threading, hashlib, base64, struct
MARK = b'sprite-url-marker-' + open('/home/sprite/marker').read().strip().encode()
def recv_exact(c, n):
    data = b''
    while len(data) < n:
        chunk = c.recv(n - len(data))
        if not chunk: raise EOFError
        data += chunk
    return data
def web(c):
    try:
        req = b''
        while b'\r\n\r\n' not in req:
            chunk = c.recv(4096)
            if not chunk: return
            req += chunk
        head = req.split(b'\r\n\r\n')[0].decode()
        lines = head.split('\r\n')
        headers = {l.split(': ', 1)[0].lower(): l.split(': ', 1)[1] for l in lines[1:] if ': ' in l}
        if headers.get('upgrade', '').lower() != 'websocket':
            body = b'<html><body><h1>' + MARK + b'</h1><p>auth header seen: ' + (b'yes' if 'authorization' in headers else b'no') + b'</p><p>path ' + lines[0].split(' ')[1].encode() + b'</p></body></html>'
            c.sendall(b'HTTP/1.1 200 OK\r\ncontent-type: text/html\r\ncontent-length: ' + str(len(body)).encode() + b'\r\nconnection: close\r\n\r\n' + body)
            return
        accept = base64.b64encode(hashlib.sha1(headers['sec-websocket-key'].encode() + b'258EAFA5-E914-47DA-95CA-C5AB0DC85B11').digest())
        c.sendall(b'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ' + accept + b'\r\n\r\n')
        while True:
            h = recv_exact(c, 2)
            op, ln = h[0] & 15, h[1] & 127
            if ln == 126: ln = struct.unpack('>H', recv_exact(c, 2))[0]
            mask = recv_exact(c, 4)
            data = bytes(b ^ mask[i % 4] for i, b in enumerate(recv_exact(c, ln)))
            if op == 8: return
            out = b'echo:' + data
            c.sendall(bytes([0x81, len(out)]) + out)
    except EOFError:
        pass
    finally:
        c.close()
def echo(c):
    try:
        while True:
            data = c.recv(65536)
            if not data: break
            c.sendall(data)
    finally:
        c.close()
def serve(family, addr, port, handler):
    s = socket.socket(family)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, port))
    s.listen(256)
    while True:
        c, _ = s.accept()
        threading.Thread(target=handler, args=(c,), daemon=True).start()
threading.Thread(target=serve, args=(socket.AF_INET, '127.0.0.1', 9000, echo), daemon=True).start()
threading.Thread(target=serve, args=(socket.AF_INET6, '::1', 9001, echo), daemon=True).start()
serve(socket.AF_INET, '0.0.0.0', 8080, web)
`;

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

test('the sprite URL (HTTP, WebSocket, login, wake) and TCP tunnels (SDK, CLI, Redis)', async (t) => {
  const port = await freePort();
  const d = await startTestDaemon(t, { listen: `127.0.0.1:${port}` });
  const client = new SpritesClient(d.adminToken, { baseURL: d.url });
  const sprite = await client.createSprite('web', { ramMB: 512, storageGB: 2 });
  const marker = randomBytes(6).toString('hex');
  const fs = sprite.filesystem('/home/sprite');
  await fs.writeFile('marker', marker);
  await fs.writeFile('app.py', APP);
  await (
    await sprite.createService('app', { cmd: 'python3', args: ['/home/sprite/app.py'], httpPort: 8080 }, '1s')
  ).toArray();
  const host = new URL(sprite.url!).host;
  assert.equal(host, `web-default.sprites.localhost:${port}`, 'the url field names the sprite and its organization');
  const get = (path = '/', headers: Record<string, string> = {}, method = 'GET', body?: string) =>
    new Promise<Answer>((done, fail) => {
      const r = request({ host: '127.0.0.1', port, path, method, headers: { host, ...headers } }, (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () => done({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
      });
      r.on('error', fail);
      r.end(body);
    });
  await pollUntil(
    async () => ((await get('/', { authorization: `Bearer ${d.adminToken}` })).status === 200 ? true : null),
    20_000,
    'the app to answer',
  );

  await t.test(
    'auth `sprite`: a token or a login cookie; anything else is refused; the app never sees our credentials',
    async () => {
      assert.equal((await get()).status, 401);
      const browser = await get('/page?x=1', { accept: 'text/html' });
      assert.equal(browser.status, 302);
      assert.equal(browser.headers.location, '/__sprites/login?next=%2Fpage%3Fx%3D1');
      const page = await get('/__sprites/login?next=/page');
      assert.match(page.body, /<form method="post" action="\/__sprites\/login">/);
      const withToken = await get('/', { authorization: `Bearer ${d.adminToken}` });
      assert.equal(withToken.status, 200);
      assert.match(withToken.body, new RegExp(`sprite-url-marker-${marker}`));
      assert.match(withToken.body, /auth header seen: no/, 'the token is not passed to the app');
      assert.equal((await get('/', { authorization: 'Bearer spr_not_a_token' })).status, 401);
      const badLogin = await get(
        '/__sprites/login',
        { 'content-type': 'application/x-www-form-urlencoded' },
        'POST',
        'token=spr_wrong&next=%2F',
      );
      assert.equal(badLogin.status, 401);
      const login = await get(
        '/__sprites/login',
        { 'content-type': 'application/x-www-form-urlencoded' },
        'POST',
        `token=${encodeURIComponent(d.adminToken)}&next=%2Fafter`,
      );
      assert.equal(login.status, 303);
      assert.equal(login.headers.location, '/after');
      const cookie = String(login.headers['set-cookie']).split(';')[0]!;
      assert.match(String(login.headers['set-cookie']), /HttpOnly; SameSite=Lax/);
      const viaCookie = await get('/after', { cookie });
      assert.equal(viaCookie.status, 200);
      assert.match(viaCookie.body, /path \/after/);
      assert.equal((await get('/', { cookie: `${cookie.slice(0, -3)}xyz` })).status, 401, 'a forged cookie is refused');
      const offsite = await get(
        '/__sprites/login',
        { 'content-type': 'application/x-www-form-urlencoded' },
        'POST',
        `token=${encodeURIComponent(d.adminToken)}&next=https%3A%2F%2Fevil.example`,
      );
      assert.equal(offsite.headers.location, '/', 'no open redirect');
    },
  );

  await t.test('auth `public`: a real browser (headless Chromium) opens the URL', async (t) => {
    await sprite.updateURLSettings({ auth: 'public' });
    assert.equal((await get()).status, 200);
    if (!CHROMIUM) {
      if (process.env.SPRITES_REQUIRED_TESTS === '1')
        assert.fail('chromium is not installed (scripts/setup-host.sh installs it)');
      t.skip('chromium is not installed');
      return;
    }
    const profile = mkdtempSync('/tmp/spr-chromium-');
    try {
      // *.localhost resolves to loopback in the browser itself.
      const { stdout } = await promisify(execFile)(
        CHROMIUM,
        [
          '--headless=new',
          '--no-sandbox',
          '--disable-gpu',
          '--disable-dev-shm-usage',
          `--user-data-dir=${profile}`,
          '--dump-dom',
          `http://${host}/from-browser`,
        ],
        { timeout: 60_000 },
      );
      assert.match(stdout, new RegExp(`<h1>sprite-url-marker-${marker}</h1>`));
      assert.match(stdout, /path \/from-browser/);
    } finally {
      rmSync(profile, { recursive: true, force: true });
    }
    await sprite.updateURLSettings({ auth: 'sprite' });
  });

  await t.test('a WebSocket through the URL reaches the app', async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/socket`, {
      headers: { host, authorization: `Bearer ${d.adminToken}` },
    });
    const reply = await new Promise<string>((done, fail) => {
      ws.once('open', () => ws.send('ping through the url'));
      ws.once('message', (m: Buffer) => done(m.toString()));
      ws.once('error', fail);
    });
    ws.close();
    assert.equal(reply, 'echo:ping through the url');
    const refused = new WebSocket(`ws://127.0.0.1:${port}/socket`, { headers: { host } });
    const status = await new Promise<number>((done) => {
      refused.once('unexpected-response', (_req, res) => done(res.statusCode ?? 0));
      refused.once('error', () => undefined);
    });
    assert.equal(status, 401);
  });

  await t.test('a request to a cold sprite wakes it, starts the http_port service, and succeeds', async () => {
    await d.restart({ stopSprites: true });
    assert.equal((await client.getSprite('web')).status, 'cold');
    const woke = await get('/woken', { authorization: `Bearer ${d.adminToken}` });
    assert.equal(
      woke.status,
      200,
      `${woke.body} ${(await sprite.exec('tail -n 20 /.sprite/logs/services/app.log')).stdout}`,
    );
    assert.match(woke.body, /path \/woken/);
    await (await sprite.stopService('app')).toArray();
    const started = await get('/again', { authorization: `Bearer ${d.adminToken}` });
    assert.equal(started.status, 200, 'a stopped http_port service is started by a request');
    assert.equal((await get('/', { authorization: `Bearer ${d.adminToken}` })).status, 200);
    const nothing = await new Promise<Answer>((done, fail) => {
      const r = request(
        { host: '127.0.0.1', port, path: '/', headers: { host: `nobody-default.sprites.localhost:${port}` } },
        (res) => {
          res.resume();
          res.on('end', () => done({ status: res.statusCode ?? 0, headers: res.headers, body: '' }));
        },
      );
      r.on('error', fail);
      r.end();
    });
    assert.equal(nothing.status, 404);
  });

  await t.test(
    'proxySocket: data intact over 100 parallel tunnels, IPv6 literals, a closed port fails cleanly',
    async () => {
      const one = async (i: number) => {
        const socket = await sprite.proxySocket('localhost:9000');
        const payload = randomBytes(128 * 1024 + i);
        const received: Buffer[] = [];
        let size = 0;
        const done = new Promise<void>((resolveDone, reject) => {
          socket.on('data', (c: Buffer) => {
            received.push(c);
            size += c.length;
            if (size >= payload.length) resolveDone();
          });
          socket.once('error', reject);
        });
        socket.write(payload);
        await done;
        socket.destroy();
        assert.ok(Buffer.concat(received).equals(payload), `tunnel ${i} carried the bytes unchanged`);
      };
      await Promise.all(Array.from({ length: 100 }, (_, i) => one(i)));
      const v6 = await sprite.proxySocket('[::1]:9001');
      assert.equal(v6.target, '[::1]:9001');
      const back = new Promise<string>((done) => v6.once('data', (c: Buffer) => done(c.toString())));
      v6.write('over ipv6');
      assert.equal(await back, 'over ipv6');
      v6.destroy();
      const closed = await sprite.proxySocket('localhost:1').catch((e: unknown) => e);
      assert.ok(closed instanceof ConnectionError && /ECONNREFUSED/.test(closed.message), String(closed));
      const badPort = await sprite.proxySocket('localhost:70000').catch((e: unknown) => e);
      assert.ok(badPort instanceof TypeError);
    },
  );

  await t.test('Redis in the sprite, used from the host through `sprite proxy`, -W and proxyPort', async () => {
    const install = await sprite.exec(
      'sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends redis-server >/dev/null 2>&1 && redis-server --version',
      { timeout: 240_000 },
    );
    assert.match(install.stdout, /Redis server v=/);
    await (
      await sprite.createService(
        'redis',
        { cmd: 'redis-server', args: ['--port', '6379', '--save', '', '--appendonly', 'no'] },
        '1s',
      )
    ).toArray();
    await pollUntil(
      async () =>
        (await sprite.exec('redis-cli ping').catch(() => ({ stdout: '' }))).stdout === 'PONG\n' ? true : null,
      20_000,
      'redis to answer',
    );
    const resp = (socket: NodeJS.ReadWriteStream, command: string) =>
      new Promise<string>((done) => {
        socket.once('data', (c: Buffer) => done(c.toString()));
        socket.write(command);
      });

    const session = await sprite.proxyPort(0, 6379);
    const local = connect(session.localPort, '127.0.0.1');
    await new Promise((r) => local.once('connect', r));
    assert.equal(await resp(local, 'SET greeting "from the host"\r\n'), '+OK\r\n');
    assert.equal(await resp(local, 'GET greeting\r\n'), '$13\r\nfrom the host\r\n');
    local.destroy();
    await session.close();

    const localPort = await freePort();
    const env = {
      PATH: process.env.PATH ?? '',
      HOME: mkdtempSync('/tmp/spr-proxy-home-'),
      SPRITES_DATA_DIR: d.dataDir,
    };
    const cli = spawn(process.execPath, [CLI, 'proxy', '-s', 'web', `${localPort}:6379`], {
      env,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    try {
      let notes = '';
      cli.stderr.on('data', (c: Buffer) => (notes += c.toString()));
      await pollUntil(() => (notes.includes('Forwarding') ? true : null), 15_000, 'sprite proxy to listen');
      const viaCli = connect(localPort, '127.0.0.1');
      await new Promise((r) => viaCli.once('connect', r));
      assert.equal(await resp(viaCli, 'GET greeting\r\n'), '$13\r\nfrom the host\r\n');
      viaCli.destroy();
    } finally {
      cli.kill('SIGINT');
      await new Promise((r) => cli.once('exit', r));
    }
    const stdio = await new Promise<string>((done) => {
      const w = execFile(
        process.execPath,
        [CLI, 'proxy', '-s', 'web', '-W', 'localhost:6379'],
        { env, timeout: 30_000 },
        (_e, stdout) => done(stdout),
      );
      w.stdin!.write('PING\r\n');
      setTimeout(() => w.stdin!.end(), 1000);
    });
    assert.equal(stdio, '+PONG\r\n');
    rmSync(env.HOME, { recursive: true, force: true });
  });
});
