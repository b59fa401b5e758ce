// Property-based fuzzing of the daemon's whole HTTP and WebSocket surface (issue 14): random
// methods, paths (with dots, backslashes, bad escapes), query strings, headers, JSON and binary
// bodies and WebSocket frames, authenticated and not, for the API and sprite URLs. Whatever
// arrives, the daemon answers in time with no 5xx other than the documented upstream ones,
// error bodies follow PROTOCOL §2, and it keeps serving; teardown checks nothing is left.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import { test } from 'node:test';
import fc from 'fast-check';
import WebSocket from 'ws';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.js';

/** 5xx answers that name a failure of the sprite (its agent or app) rather than of the daemon. */
const UPSTREAM_CODES = new Set(['bad_gateway', 'gateway_timeout', 'sprite_not_ready', 'capacity_exhausted']);
const ANSWER_MS = 45_000;

interface Answer {
  status: number;
  head: string;
  body: string;
}

/** Sends raw bytes as one HTTP request and reads the answer's head and (some of) its body. */
function exchange(d: TestDaemon, raw: Buffer): Promise<Answer> {
  const { port } = new URL(d.url);
  return new Promise((resolve, reject) => {
    const s = connect(Number(port), '127.0.0.1');
    const chunks: Buffer[] = [];
    let size = 0;
    const finish = () => {
      clearTimeout(timer);
      s.destroy();
      const text = Buffer.concat(chunks).toString('latin1');
      const cut = text.indexOf('\r\n\r\n');
      const head = cut >= 0 ? text.slice(0, cut) : text;
      resolve({
        status: Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0),
        head,
        body: cut >= 0 ? text.slice(cut + 4) : '',
      });
    };
    const timer = setTimeout(() => {
      s.destroy();
      reject(new Error(`no complete answer within ${ANSWER_MS} ms to:\n${raw.subarray(0, 400).toString('latin1')}`));
    }, ANSWER_MS);
    s.on('data', (c: Buffer) => {
      size += c.length;
      if (size < 256 * 1024) chunks.push(c);
      const text = Buffer.concat(chunks).toString('latin1');
      const cut = text.indexOf('\r\n\r\n');
      if (cut < 0) return;
      // One answer is enough: a fixed-length body complete, or a stream that has started.
      const length = /\r\ncontent-length: (\d+)/i.exec(text.slice(0, cut))?.[1];
      if (length === undefined || text.length - cut - 4 >= Number(length)) finish();
    });
    s.on('error', () => undefined);
    s.on('close', finish);
    s.write(raw);
  });
}

const SEGMENTS = [
  'v1',
  'sprites',
  'box',
  'nope',
  'exec',
  'fs',
  'read',
  'write',
  'list',
  'delete',
  'stat',
  'mkdir',
  'rename',
  'services',
  'web',
  'logs',
  'start',
  'stop',
  'checkpoint',
  'checkpoints',
  'v1',
  'restore',
  'policy',
  'network',
  'organizations',
  'tokens',
  'upgrade',
  'kill',
  '1',
  '..',
  '.',
  '%',
  '%zz',
  '%E0%A4%A',
  '%2e%2e',
  '%2F',
  '..\\..\\internal',
  '\\',
  '__sprites',
  'login',
  'internal',
  'http-target',
  'identity',
  '',
  'x'.repeat(300),
];

function arbitraryPath(): fc.Arbitrary<string> {
  const segment = fc.oneof(
    { weight: 5, arbitrary: fc.constantFrom(...SEGMENTS) },
    { weight: 1, arbitrary: fc.string({ maxLength: 12 }).map((s) => encodeURIComponent(s)) },
  );
  const prefix = fc.constantFrom(
    ['v1', 'sprites', 'box'],
    ['v1', 'sprites'],
    ['v1', 'sprites', 'nope'],
    ['v1', 'organizations'],
    [] as string[],
  );
  return fc.tuple(prefix, fc.array(segment, { maxLength: 5 })).map(([p, rest]) => `/${[...p, ...rest].join('/')}`);
}

function arbitraryQuery(): fc.Arbitrary<string> {
  const key = fc.constantFrom(
    'path',
    'cmd',
    'env',
    'dir',
    'tty',
    'cols',
    'rows',
    'stdin',
    'signal',
    'timeout',
    'max_results',
    'continuation_token',
    'prefix',
    'history',
    'offset',
    'length',
    'recursive',
    'next',
    'x',
  );
  const value = fc.oneof(
    fc.constantFrom(
      '/',
      '/etc/passwd',
      '../../etc',
      'true',
      'false',
      '-1',
      '99999999999',
      '1e309',
      'NaN',
      '%',
      '%E0%A4%A',
      'KILL',
      'ls',
      'A=B',
    ),
    fc.string({ maxLength: 20 }).map(encodeURIComponent),
  );
  return fc
    .array(fc.tuple(key, value), { maxLength: 5 })
    .map((pairs) => (pairs.length ? `?${pairs.map(([k, v]) => `${k}=${v}`).join('&')}` : ''));
}

function arbitraryBody(): fc.Arbitrary<{ type: string | null; bytes: Buffer }> {
  return fc.oneof(
    fc.constant({ type: null, bytes: Buffer.alloc(0) }),
    fc.json({ maxDepth: 3 }).map((j) => ({ type: 'application/json', bytes: Buffer.from(j) })),
    fc
      .record(
        {
          name: fc.constantFrom('box', 'nope', '', '../x', 'A'.repeat(100)),
          config: fc.anything({ maxDepth: 2 }),
          labels: fc.anything({ maxDepth: 1 }),
          url_settings: fc.anything({ maxDepth: 1 }),
          rules: fc.anything({ maxDepth: 2 }),
        },
        { requiredKeys: [] },
      )
      .map((o) => ({ type: 'application/json', bytes: Buffer.from(JSON.stringify(o) ?? 'null') })),
    fc.uint8Array({ maxLength: 2048 }).map((b) => ({
      type: fc.sample(
        fc.constantFrom(
          'application/json',
          'application/octet-stream',
          'text/plain',
          'multipart/form-data; boundary=x',
          'application/x-www-form-urlencoded',
        ),
        1,
      )[0]!,
      bytes: Buffer.from(b),
    })),
  );
}

function arbitraryHeaders(): fc.Arbitrary<[string, string][]> {
  const name = fc.oneof(
    fc.constantFrom(
      'accept',
      'range',
      'x-forwarded-for',
      'origin',
      'cookie',
      'sec-websocket-protocol',
      'transfer-encoding',
      'expect',
      'if-none-match',
    ),
    fc.stringMatching(/^[a-z][a-z0-9-]{0,20}$/),
  );
  const value = fc.oneof(
    fc.constantFrom(
      'bytes=0-1',
      'bytes=-5',
      'bytes=9-1',
      'text/html',
      '*/*',
      'sprites_session=a.b.c',
      'sprites_session=%E0',
      'chunked',
      '100-continue',
    ),
    fc.stringMatching(/^[ -~]{0,60}$/),
  );
  return fc.array(fc.tuple(name, value), { maxLength: 6 });
}

test('fuzzed HTTP and WebSocket requests never crash, hang or 500 the daemon', async (t) => {
  const d = await startTestDaemon(t, { env: { SPRITES_PREBOOTED: '0' } });
  await d.createSprite('box', { ram_mb: 256, storage_gb: 1 });
  assert.equal((await d.api('POST', '/v1/organizations', { name: 'other' })).status, 201);
  const other = (await d.api<{ token: string }>('POST', '/v1/organizations/other/tokens', { description: 'fuzz' })).body
    .token;
  d.orgTokens.push(other);
  const { port } = new URL(d.url);
  const seed = Number(process.env.SPRITES_FUZZ_SEED ?? Date.now() % 2 ** 31);
  t.diagnostic(`fuzz seed ${seed} (SPRITES_FUZZ_SEED reruns it)`);

  const auth = fc.constantFrom<[string, string] | null>(
    null,
    ['authorization', `Bearer ${d.adminToken}`],
    ['authorization', `Bearer ${other}`],
    ['authorization', 'Bearer nope'],
    ['authorization', 'Basic eDp5'],
    ['authorization', 'Bearer '],
    ['sec-websocket-protocol', 'sprites.bearer.@@@'],
  );
  const host = fc.constantFrom(
    '127.0.0.1',
    `box-default.sprites.localhost:${port}`,
    `nope-default.sprites.localhost:${port}`,
    `box-other.sprites.localhost`,
    'sprites.localhost',
    '[::1]',
    `-.sprites.localhost`,
    `${'a'.repeat(300)}.sprites.localhost`,
  );
  const method = fc.constantFrom('GET', 'GET', 'POST', 'PUT', 'DELETE', 'HEAD', 'OPTIONS', 'PATCH', 'TRACE', 'BREW');

  let answered = 0;
  await fc.assert(
    fc.asyncProperty(
      method,
      arbitraryPath(),
      arbitraryQuery(),
      host,
      auth,
      arbitraryHeaders(),
      arbitraryBody(),
      async (m, path, query, h, credential, headers, body) => {
        // Requests that would (legitimately) delete or create sprites are left to other tests.
        if (
          credential?.[1] === `Bearer ${d.adminToken}` &&
          ((m === 'DELETE' && /^\/v1\/sprites\/[^/]+\/?$/.test(path)) ||
            (m === 'POST' && /^\/v1\/sprites\/?$/.test(path)))
        )
          return;
        const lines = [`${m} ${path}${query} HTTP/1.1`, `host: ${h}`, 'connection: close'];
        if (credential) lines.push(`${credential[0]}: ${credential[1]}`);
        for (const [k, v] of headers)
          if (!['host', 'connection', 'content-length', 'transfer-encoding'].includes(k)) lines.push(`${k}: ${v}`);
        if (body.type) lines.push(`content-type: ${body.type}`);
        lines.push(`content-length: ${body.bytes.length}`);
        const raw = Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1'), body.bytes]);
        const a = await exchange(d, raw);
        answered++;
        assert.ok(a.status >= 100, `no status line for ${m} ${path}${query} (host ${h}):\n${a.head}`);
        if (a.status >= 500 && m === 'HEAD')
          assert.ok([502, 503, 504].includes(a.status), `${a.status} for HEAD ${path}${query} (host ${h})`);
        else if (a.status >= 500) {
          let code = '';
          try {
            code = (JSON.parse(a.body) as { error?: string }).error ?? '';
          } catch {
            // not JSON: fails below
          }
          assert.ok(
            UPSTREAM_CODES.has(code),
            `${a.status} for ${m} ${path}${query} (host ${h}): ${a.body.slice(0, 300)}`,
          );
        }
        const isApi = !/sprites\.localhost/.test(h) || h.startsWith('-') || h === 'sprites.localhost';
        if (isApi && a.status >= 400 && m !== 'HEAD' && /content-type: application\/json/i.test(a.head)) {
          const parsed = JSON.parse(a.body) as { error?: unknown; message?: unknown };
          assert.equal(typeof parsed.error, 'string', `error body without "error": ${a.body.slice(0, 200)}`);
        }
      },
    ),
    { numRuns: Number(process.env.SPRITES_FUZZ_RUNS ?? 400), seed, endOnFailure: true },
  );
  t.diagnostic(`${answered} HTTP requests answered`);

  // The ws client refuses sub-protocols that are no HTTP token, so those stay in the HTTP fuzz.
  const weighted = <T>(common: T, weight: number, ...rest: T[]) =>
    fc.oneof(
      { weight, arbitrary: fc.constant(common) },
      ...rest.map((r) => ({ weight: 1, arbitrary: fc.constant(r) })),
    );
  const wsAuth = weighted<[string, string] | null>(
    ['authorization', `Bearer ${d.adminToken}`],
    6,
    null,
    ['authorization', `Bearer ${other}`],
    ['authorization', 'Bearer nope'],
    ['sec-websocket-protocol', 'sprites.bearer.bm9wZQ'],
    ['sec-websocket-protocol', `sprites.bearer.${Buffer.from(d.adminToken).toString('base64url')}`],
  );
  const wsPath = fc.tuple(
    weighted('box', 8, 'nope', '%E0%A4%A', '..', 'box%2F..'),
    fc.oneof(
      { weight: 6, arbitrary: fc.constantFrom('exec', 'fs/watch', 'ports/watch', 'proxy') },
      {
        weight: 1,
        arbitrary: fc.constantFrom('exec/1', 'exec/999', 'exec/..', 'exec/%zz', 'control', 'nothing', 'exec/1/kill'),
      },
    ),
  );
  const execQuery = fc.array(
    fc.tuple(
      fc.constantFrom(
        'cmd',
        'cmd',
        'tty',
        'cols',
        'rows',
        'stdin',
        'env',
        'dir',
        'path',
        'recursive',
        'id',
        'max_run_after_disconnect',
      ),
      fc.oneof(
        fc.constantFrom(
          'true',
          'false',
          'echo',
          'cat',
          'sh',
          '-c',
          'nonexistent-cmd',
          '0',
          '-5',
          '70000',
          '/',
          '/nope',
          'A=1',
          '=',
          '%',
          '1s',
          'forever',
        ),
        fc.string({ maxLength: 10 }),
      ),
    ),
    { maxLength: 6 },
  );
  const frames = fc.array(
    fc.oneof(
      fc.uint8Array({ maxLength: 300 }).map((b) => ({ kind: 'binary' as const, data: Buffer.from(b) })),
      fc
        .oneof(
          fc.json({ maxDepth: 2 }),
          fc.constantFrom(
            '{"type":"resize","cols":-1,"rows":1e9}',
            '{"type":"signal","signal":"KILL"}',
            '{"type":"signal","signal":"SIGNOPE"}',
            '{"host":"localhost","port":70000}',
            '{"host":"127.0.0.1","port":1}',
          ),
        )
        .map((s) => ({ kind: 'text' as const, data: Buffer.from(s) })),
      fc.uint8Array({ minLength: 1, maxLength: 64 }).map((b) => ({ kind: 'raw' as const, data: Buffer.from(b) })),
    ),
    { maxLength: 6 },
  );
  let upgraded = 0;
  await fc.assert(
    fc.asyncProperty(wsPath, execQuery, wsAuth, frames, async ([name, endpoint], query, credential, script) => {
      const q = new URLSearchParams(query).toString();
      const url = `ws://127.0.0.1:${port}/v1/sprites/${name}/${endpoint}${q ? `?${q}` : ''}`;
      const headers: Record<string, string> = {};
      if (credential?.[0] === 'authorization') headers.authorization = credential[1];
      const outcome = await new Promise<{ status: number; body: string }>((resolve, reject) => {
        const ws = new WebSocket(url, credential?.[0] === 'sec-websocket-protocol' ? [credential[1]] : [], {
          headers,
          handshakeTimeout: ANSWER_MS,
        });
        ws.on('unexpected-response', (_req, res) => {
          let body = '';
          res.on('data', (c: Buffer) => (body += c.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        });
        ws.on('open', () => {
          upgraded++;
          for (const f of script) {
            if (f.kind === 'binary') ws.send(f.data, { binary: true });
            else if (f.kind === 'text') ws.send(f.data.toString(), { binary: false });
            // Bytes that are no valid client frame (unmasked, bad opcodes): the peer must close.
            else (ws as unknown as { _socket: { write(b: Buffer): void } })._socket.write(f.data);
          }
          setTimeout(() => ws.terminate(), 300);
        });
        ws.on('close', () => resolve({ status: 101, body: '' }));
        ws.on('error', (e) =>
          /Unexpected server response|socket hang up|ECONNRESET|Invalid|closed before/i.test(e.message)
            ? undefined
            : reject(e),
        );
      });
      if (outcome.status >= 500) {
        const code = (JSON.parse(outcome.body || '{}') as { error?: string }).error ?? '';
        assert.ok(UPSTREAM_CODES.has(code), `${outcome.status} for WS ${url}: ${outcome.body}`);
      }
      if (outcome.status >= 400)
        assert.equal(
          typeof (JSON.parse(outcome.body) as { error?: unknown }).error,
          'string',
          `WS ${url}: ${outcome.body}`,
        );
    }),
    { numRuns: Number(process.env.SPRITES_FUZZ_WS_RUNS ?? 120), seed, endOnFailure: true },
  );
  t.diagnostic(`${upgraded} WebSockets opened`);

  // Still whole: the API answers, the sprite runs commands, random bytes in exec's stdin arrive intact.
  assert.equal((await d.api('GET', '/v1/sprites')).status, 200);
  const bytes = randomBytes(64 * 1024);
  const echo = await d.exec('box', ['sh', '-c', 'cat | sha256sum'], { stdin: bytes });
  assert.equal(
    echo.stdout.split(' ')[0],
    (await import('node:crypto')).createHash('sha256').update(bytes).digest('hex'),
  );
});
