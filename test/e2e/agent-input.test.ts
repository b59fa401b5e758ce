import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { request } from 'node:http';
import { join } from 'node:path';
import { test } from 'node:test';
import { SpritesClient } from '@sprites/sdk';
import WebSocket from 'ws';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import { execUrl, pollUntil } from '../helpers/ws.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A raw request to the agent's own socket (what the daemon forwards to), answered or not within `ms`. */
function agentRequest(
  socketPath: string,
  method: string,
  path: string,
  headers: Record<string, string | number>,
  body: Buffer,
  ms: number,
): Promise<{ status: number; text: string } | 'no answer'> {
  return new Promise((resolve) => {
    const req = request({ socketPath, method, path, headers }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      res.on('error', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on('error', () => undefined);
    const timer = setTimeout(() => {
      req.destroy();
      resolve('no answer');
    }, ms);
    req.on('close', () => clearTimeout(timer));
    // Write the body but never finish it: a body that announces more than it sends.
    req.write(body);
  });
}

/** A TTY command's messages in arrival order: output bytes, then what came after them. */
function ttyRun(
  d: TestDaemon,
  sprite: string,
  script: string,
  stallMs: number,
): Promise<{ output: string; exitCode: number | null; afterExit: number }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(
      execUrl(d.url, sprite, [
        ['cmd', 'sh'],
        ['cmd', '-c'],
        ['cmd', script],
        ['tty', 'true'],
        ['stdin', 'false'],
      ]),
      { headers: { authorization: `Bearer ${d.adminToken}` } },
    );
    const chunks: Buffer[] = [];
    let exitCode: number | null = null;
    let afterExit = 0;
    ws.on('open', () => {
      if (stallMs > 0) {
        ws.pause();
        setTimeout(() => ws.resume(), stallMs);
      }
    });
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (isBinary) {
        if (exitCode !== null) afterExit += data.length;
        chunks.push(Buffer.from(data));
        return;
      }
      const msg = JSON.parse(data.toString()) as { type: string; exit_code?: number };
      if (msg.type === 'exit') exitCode = msg.exit_code ?? null;
    });
    ws.on('error', reject);
    ws.on('close', () => resolve({ output: Buffer.concat(chunks).toString(), exitCode, afterExit }));
  });
}

test('the agent under hostile input: PTY exit order, service definitions, bounds', async (t) => {
  const d = await startTestDaemon(t);
  const sprite = await d.createSprite('hostile', { ram_mb: 512, storage_gb: 1 });
  const socketPath = () => join(d.dataDir, 'run', sprite.id, 'agent.sock');

  await t.test('a TTY command that prints a lot and exits at once delivers every byte before its exit', async () => {
    for (const stallMs of [0, 0, 0, 1500, 1500]) {
      const r = await ttyRun(d, 'hostile', 'seq 1 200000; exit 3', stallMs);
      const lines = r.output.split('\r\n').filter((l) => /^\d+$/.test(l));
      if (lines.length !== 200000) {
        const missing: number[] = [];
        for (let i = 0, want = 1; i < lines.length && missing.length < 5; i++, want++)
          if (Number(lines[i]) !== want) {
            missing.push(want);
            want = Number(lines[i]);
          }
        t.diagnostic(
          `first gaps before: ${missing.join(', ')}; last line ${lines.at(-1)}; tail ${JSON.stringify(r.output.slice(-80))}`,
        );
      }
      assert.equal(r.exitCode, 3, 'the exit code');
      assert.equal(r.afterExit, 0, 'no output after the exit message');
      assert.equal(lines.length, 200000, `every line arrived (client stalled ${stallMs} ms)`);
      assert.equal(lines.at(-1), '200000');
    }
  });

  await t.test('a needs cycle written on disk by root is refused; the agent serves exec and services', async () => {
    const defs = {
      a: { name: 'a', cmd: 'sleep', args: ['1000'], needs: ['b'], env: {}, dir: null, http_port: null, stopped: true },
      b: { name: 'b', cmd: 'sleep', args: ['1000'], needs: ['a'], env: {}, dir: null, http_port: 8080, stopped: true },
      c: { name: 'c', cmd: 'sleep', args: ['1000'], needs: [], env: {}, dir: null, http_port: null, stopped: true },
      bad: { name: 'other', cmd: 'sleep' },
    };
    const script = Object.entries(defs)
      .map(([file, def]) => `printf '%s' '${JSON.stringify(def)}' > /var/lib/sprite/services/${file}.json`)
      .join(' && ');
    const wrote = await d.sh('hostile', `mkdir -p /var/lib/sprite/services && ${script}`);
    assert.equal(wrote.code, 0, wrote.stderr);
    await d.restart({ stopSprites: true });

    const list = await pollUntil(
      async () => {
        const r = await d.api<{ name: string }[]>('GET', '/v1/sprites/hostile/services');
        return r.status === 200 ? r.body : null;
      },
      60_000,
      'the services list',
    );
    assert.deepEqual(
      list.map((s) => s.name),
      ['c'],
      'the cycle and the misnamed file are not loaded',
    );
    const start = await d.api('POST', '/v1/sprites/hostile/services/a/start');
    assert.equal(start.status, 404, start.text);
    const r = await d.exec('hostile', ['echo', 'still here']);
    assert.equal(r.code, 0);
    assert.equal(r.stdout, 'still here\n');

    // The same cycle through the API is a 400.
    const put = (name: string, needs: string[]) =>
      d.api('PUT', `/v1/sprites/hostile/services/${name}?duration=0`, { cmd: 'sleep', args: ['1000'], needs });
    assert.equal((await put('x', [])).status, 200);
    assert.equal((await put('y', ['x'])).status, 200);
    const cycle = await put('x', ['y']);
    assert.equal(cycle.status, 400, cycle.text);
    assert.match((cycle.body as { message: string }).message, /cycle/);
  });

  await t.test('bodies past their cap get a 413 at once, without the rest being read', async () => {
    const big = Buffer.alloc(2 * 1024 * 1024, 'x');
    for (const [method, path] of [
      ['PUT', '/v1/sprites/hostile/services/huge'],
      ['POST', '/v1/sprites/hostile/fs/rename'],
      ['POST', '/v1/internal/identity'],
    ] as const) {
      // No content-length: chunked, so only reading shows the size.
      const r = await agentRequest(
        socketPath(),
        method,
        path,
        { 'content-type': 'application/json', 'transfer-encoding': 'chunked' },
        big,
        10_000,
      );
      assert.notEqual(r, 'no answer', `${method} ${path} answered while the body was still open`);
      if (r === 'no answer') continue;
      assert.equal(r.status, 413, `${method} ${path}: ${r.text}`);
      const body = JSON.parse(r.text) as { error: string };
      assert.equal(typeof body.error, 'string');
    }
  });

  await t.test('oversized headers get a JSON 431', async () => {
    const r = await agentRequest(
      socketPath(),
      'GET',
      '/v1/health',
      { 'x-big': 'y'.repeat(20 * 1024) },
      Buffer.alloc(0),
      10_000,
    );
    assert.notEqual(r, 'no answer');
    if (r === 'no answer') return;
    assert.equal(r.status, 431);
    assert.equal((JSON.parse(r.text) as { error: string }).error, 'headers_too_large');
  });

  await t.test('a WebSocket message past the cap closes that socket with 1009; the agent goes on', async () => {
    const ws = new WebSocket(
      execUrl(d.url, 'hostile', [
        ['cmd', 'cat'],
        ['stdin', 'true'],
      ]),
      { headers: { authorization: `Bearer ${d.adminToken}` } },
    );
    ws.on('error', () => undefined);
    const closed = new Promise<number>((resolve) => ws.on('close', (code) => resolve(code)));
    await new Promise<void>((resolve) => ws.once('open', () => resolve()));
    const frame = Buffer.alloc(64 * 1024 * 1024 + 1, 0x61);
    frame[0] = 0;
    ws.send(frame, { binary: true });
    const code = await Promise.race([closed, sleep(10_000).then(() => -1)]);
    ws.terminate();
    // 1009 when the close frame reaches us; 1006 when the agent closed while 64 MiB were still
    // on their way (the reset overtakes the frame). Either way the socket ends, promptly.
    assert.ok(code === 1009 || code === 1006, `closed with ${code}`);
    const r = await d.exec('hostile', ['echo', 'ok']);
    assert.equal(r.stdout, 'ok\n');
  });

  await t.test('SDK: streaming reads with one AbortSignal do not collect abort listeners', async () => {
    const client = new SpritesClient(d.adminToken, { baseURL: d.url });
    const fs = client.sprite('hostile').filesystem();
    await fs.writeFile('/home/sprite/small.txt', 'hello');
    const signal = new AbortController().signal;
    const before = getEventListeners(signal, 'abort').length;
    for (let i = 0; i < 20; i++) {
      let text = '';
      for await (const c of await fs.createReadStream('/home/sprite/small.txt', { signal })) text += String(c);
      assert.equal(text, 'hello');
    }
    assert.equal(getEventListeners(signal, 'abort').length, before, 'no listener left behind by the reads');
  });
});
