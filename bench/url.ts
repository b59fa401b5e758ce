import { Agent, request } from 'node:http';
import { connect } from 'node:net';
import { SpritesClient } from '@sprites/sdk';
import type { TestDaemon } from '../test/helpers/daemon.js';
import { summarize, timed, type Summary } from './stats.js';

export interface UrlResult {
  /** One GET (keep-alive) through the sprite URL / straight to the app's port on the sprite's address. */
  urlLatency: Summary;
  directLatency: Summary;
  /** Requests per second with 16 connections for 3 s. */
  urlRps: number;
  directRps: number;
  /** MB/s read through one TCP tunnel (proxySocket) / a direct TCP connection, 256 MB each. */
  tunnelMBps: number;
  directTcpMBps: number;
  /** `restartService` until the new process runs. */
  serviceRestart: Summary;
}

/** A keep-alive HTTP/1.1 app and a bulk sender, both in Python's standard library. */
const APP = String.raw`
import socket, threading
from http.server import ThreadingHTTPServer, BaseHTTPRequestHandler
class H(BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'
    # Headers and body are two writes: without TCP_NODELAY the body waits for a delayed ACK
    # (~40 ms) behind any proxy; real servers set it, so the benchmark does too.
    disable_nagle_algorithm = True
    def do_GET(self):
        body = b'ok'
        self.send_response(200); self.send_header('content-length', '2'); self.end_headers(); self.wfile.write(body)
    def log_message(self, *a): pass
def bulk():
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(('0.0.0.0', 9000)); s.listen()
    chunk = b'x' * (1 << 20)
    while True:
        c, _ = s.accept()
        try:
            for _ in range(256): c.sendall(chunk)
        finally:
            c.close()
threading.Thread(target=bulk, daemon=True).start()
ThreadingHTTPServer(('0.0.0.0', 8080), H).serve_forever()
`;

function get(agent: Agent, host: string, port: number, hostHeader?: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const r = request({ host, port, path: '/', agent, headers: hostHeader ? { host: hostHeader } : {} }, (res) => {
      res.resume();
      res.once('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`status ${res.statusCode}`))));
    });
    r.once('error', reject);
    r.end();
  });
}

async function rps(fn: () => Promise<void>, seconds: number, concurrency: number): Promise<number> {
  const until = Date.now() + seconds * 1000;
  let done = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (Date.now() < until) {
        await fn();
        done++;
      }
    }),
  );
  return done / seconds;
}

function drain(socket: NodeJS.ReadableStream): Promise<number> {
  return new Promise((resolve, reject) => {
    let size = 0;
    socket.on('data', (c: Buffer) => (size += c.length));
    socket.once('end', () => resolve(size));
    socket.once('close', () => resolve(size));
    socket.once('error', reject);
  });
}

/** Sprite URL and TCP tunnel overhead next to direct access in the same run; service restart. */
export async function measureUrl(d: TestDaemon, runs: number): Promise<UrlResult> {
  const client = new SpritesClient(d.adminToken, { baseURL: d.url });
  const sprite = await client.createSprite('bench-url', { ramMB: 512, storageGB: 1 });
  try {
    await sprite.filesystem('/home/sprite').writeFile('app.py', APP);
    await (
      await sprite.createService('app', { cmd: 'python3', args: ['/home/sprite/app.py'], httpPort: 8080 }, '1s')
    ).toArray();
    await sprite.updateURLSettings({ auth: 'public' });
    const address = (await sprite.exec('hostname -I')).stdout.trim().split(' ')[0]!;
    const api = new URL(d.url);
    const hostHeader = new URL(sprite.url!).host;
    const agent = new Agent({ keepAlive: true, maxSockets: 16 });
    const viaUrl = () => get(agent, api.hostname, Number(api.port), hostHeader);
    const direct = () => get(agent, address, 8080);
    for (let i = 0; i < 50; i++) {
      await viaUrl();
      await direct();
    }
    const urlLatency: number[] = [];
    const directLatency: number[] = [];
    for (let i = 0; i < runs * 25; i++) {
      urlLatency.push((await timed(viaUrl)).ms);
      directLatency.push((await timed(direct)).ms);
    }
    const urlRps = await rps(viaUrl, 3, 16);
    const directRps = await rps(direct, 3, 16);
    agent.destroy();

    const mb = 256;
    const tunnel = await timed(async () => drain(await sprite.proxySocket('localhost:9000')));
    const tcp = await timed(async () => drain(connect(9000, address)));
    if (tunnel.value !== mb << 20 || tcp.value !== mb << 20)
      throw new Error(`bulk transfer incomplete: tunnel ${tunnel.value}, direct ${tcp.value}`);

    const restarts: number[] = [];
    for (let i = 0; i < Math.min(runs, 10); i++) {
      restarts.push((await timed(async () => void (await (await sprite.restartService('app', '0')).toArray()))).ms);
    }
    return {
      urlLatency: summarize(urlLatency),
      directLatency: summarize(directLatency),
      urlRps,
      directRps,
      tunnelMBps: mb / (tunnel.ms / 1000),
      directTcpMBps: mb / (tcp.ms / 1000),
      serviceRestart: summarize(restarts),
    };
  } finally {
    await sprite.delete().catch(() => undefined);
  }
}
