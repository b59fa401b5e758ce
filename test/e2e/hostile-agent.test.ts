// Root in a sprite takes over its agent's socket (pidfd_getfd on the agent's listening fd,
// then SIGSTOP) and answers the daemon as badly as it can: stalls, endless headers, endless
// bodies, garbage. The daemon must answer that sprite's callers with 502/504 within bounded
// time, keep its own memory bounded, and serve every other sprite normally (DESIGN §5.5).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { test } from 'node:test';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import { execUrl, rawExec } from '../helpers/ws.js';

const HOSTILE = String.raw`
import ctypes, os, signal, socket, threading, time
libc = ctypes.CDLL(None, use_errno=True)
time.sleep(0.5)
me = str(os.getpid())
def cmd(p):
    try: return open('/proc/%s/cmdline' % p, 'rb').read()
    except OSError: return b''
pid = next(int(p) for p in os.listdir('/proc') if p.isdigit() and p != me and b'sprite-agent' in cmd(p) and b'agent.js' not in cmd(p))
pidfd = libc.syscall(434, pid, 0)
fd = libc.syscall(438, pidfd, 3, 0)
if fd < 0: raise SystemExit('pidfd_getfd failed: %d' % ctypes.get_errno())
os.kill(pid, signal.SIGSTOP)
srv = socket.socket(fileno=fd)
srv.setblocking(True)  # the agent's socket is non-blocking
log = open('/tmp/hostile.log', 'a')
def endless(c, head):
    c.sendall(head)
    chunk = b'%x\r\n%s\r\n' % (65536, b'{' * 65536)
    while True: c.sendall(chunk)
def handle(c):
    try:
        req = b''
        while b'\r\n\r\n' not in req:
            d = c.recv(65536)
            if not d: return
            req += d
        path = req.split(b'\r\n')[0].split(b' ')[1].decode('latin1')
        log.write(path + '\n'); log.flush()
        if 'stall' in path:
            time.sleep(3600)
        elif 'flood' in path:
            c.sendall(b'HTTP/1.1 200 OK\r\n')
            while True: c.sendall(b'X-Flood: ' + b'a' * 1000 + b'\r\n')
        elif 'garbage' in path:
            c.sendall(b'\x00\xff\xfeNOT HTTP AT ALL\r\n\r\n' * 10)
        else:
            # The daemon's own questions (where HTTP goes, which sessions run) get endless bodies.
            endless(c, b'HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n')
    except OSError:
        pass
    finally:
        c.close()
while True:
    c, _ = srv.accept()
    threading.Thread(target=handle, args=(c,), daemon=True).start()
`;

function rssMb(pid: number): number {
  return Math.round(Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024);
}

/** A request with a client-side deadline: resolves with the status and how long it took. */
function timed(
  d: TestDaemon,
  path: string,
  host?: string,
  limitMs = 90_000,
): Promise<{ status: number; ms: number; body: string }> {
  const { port } = new URL(d.url);
  const started = Date.now();
  return new Promise((resolve) => {
    const headers: Record<string, string> = { authorization: `Bearer ${d.adminToken}` };
    if (host) headers.host = host;
    const r = request({ host: '127.0.0.1', port, path, headers, timeout: limitMs }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body.length < 4096 ? (body += c.toString()) : undefined));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, ms: Date.now() - started, body }));
      res.on('error', () => resolve({ status: res.statusCode ?? 0, ms: Date.now() - started, body }));
    });
    r.on('timeout', () => r.destroy(new Error('client deadline')));
    r.on('error', (e) => resolve({ status: -1, ms: Date.now() - started, body: e.message }));
    r.end();
  });
}

test('a hostile agent gets its own callers 502/504 in bounded time and harms nobody else', async (t) => {
  const d = await startTestDaemon(t, {
    env: { SPRITES_PREBOOTED: '0', SPRITES_IDLE_WARM_SECONDS: '2', SPRITES_IDLE_COLD_SECONDS: '600' },
  });
  await d.createSprite('evil', { ram_mb: 256, storage_gb: 1 });
  await d.createSprite('good', { ram_mb: 256, storage_gb: 1 });
  const takeover = await d.exec('evil', [
    'sudo',
    'sh',
    '-c',
    `cat > /tmp/h.py <<'PY'\n${HOSTILE}\nPY\nsetsid python3 /tmp/h.py </dev/null >/tmp/h.log 2>&1 &`,
  ]);
  assert.equal(takeover.code, 0, takeover.stderr);
  await new Promise((r) => setTimeout(r, 2500));
  const rssBefore = rssMb(d.pid);

  const urlHost = `evil-default.sprites.localhost:${new URL(d.url).port}`;
  const [stalled, flooded, garbage, endlessTarget, stalledWs, goodMeanwhile] = await Promise.all([
    timed(d, '/v1/sprites/evil/fs/list?path=/stall'),
    timed(d, '/v1/sprites/evil/fs/list?path=/flood'),
    timed(d, '/v1/sprites/evil/fs/list?path=/garbage'),
    timed(d, '/', urlHost),
    rawExec(execUrl(d.url, 'evil', [['cmd', 'stall']]), d.adminToken, () => undefined, 90_000).then(
      () => ({ status: 101, ms: 0 }),
      (e: { status?: number }) => ({ status: e.status ?? -1, ms: 0 }),
    ),
    (async () => {
      // Other sprites are served normally while evil's requests hang.
      const results = [];
      for (let i = 0; i < 5; i++) results.push(await d.exec('good', ['sh', '-c', `echo good-${i}`]));
      return results;
    })(),
  ]);
  assert.equal(stalled.status, 504, `stalled agent: ${stalled.status} ${stalled.body}`);
  assert.ok(stalled.ms < 45_000, `stall answered after ${stalled.ms} ms`);
  assert.equal((JSON.parse(stalled.body) as { error?: string }).error, 'gateway_timeout');
  assert.equal(flooded.status, 502, `header flood: ${flooded.status} ${flooded.body}`);
  assert.equal(garbage.status, 502, `garbage: ${garbage.status} ${garbage.body}`);
  assert.ok(
    [502, 504].includes(endlessTarget.status),
    `endless http-target: ${endlessTarget.status} ${endlessTarget.body}`,
  );
  assert.equal(stalledWs.status, 504, 'a WebSocket to a stalled agent gets 504');
  for (const [i, r] of goodMeanwhile.entries()) assert.equal(r.stdout, `good-${i}\n`);

  // The idle sweep asks the hostile agent for its sessions and gets an endless body: the
  // daemon reads at most its cap, whatever the agent sends, for as long as it runs.
  await new Promise((r) => setTimeout(r, 10_000));
  const grown = rssMb(d.pid) - rssBefore;
  assert.ok(grown < 100, `the daemon's memory grew by ${grown} MB`);
  assert.equal((await d.api('GET', '/v1/sprites')).status, 200, 'the daemon still serves');
  assert.equal((await d.exec('good', ['echo', 'still'])).stdout, 'still\n');
});
