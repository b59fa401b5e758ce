import { createServer } from 'node:net';
import WebSocket from 'ws';

export interface Transcript {
  /** Text frames, parsed when they are JSON. */
  texts: unknown[];
  /** Binary frames as received. */
  binaries: Buffer[];
  closeCode: number | null;
}

/**
 * A raw WebSocket exec client that records every frame, for checking framing byte by byte.
 * `script` runs once the socket is open; the promise settles when the socket closes.
 */
export function rawExec(
  url: string,
  token: string,
  script: (ws: WebSocket) => void = () => undefined,
  timeoutMs = 60_000,
): Promise<Transcript> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers: { authorization: `Bearer ${token}` } });
    const t: Transcript = { texts: [], binaries: [], closeCode: null };
    const timer = setTimeout(() => {
      ws.terminate();
      reject(new Error(`no close within ${timeoutMs} ms: ${JSON.stringify(t.texts)}`));
    }, timeoutMs);
    ws.on('unexpected-response', (_req, res) => {
      clearTimeout(timer);
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () =>
        reject(Object.assign(new Error(`HTTP ${res.statusCode} ${body}`), { status: res.statusCode, body })),
      );
    });
    ws.on('open', () => script(ws));
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (isBinary) t.binaries.push(Buffer.from(data));
      else {
        const text = data.toString('utf8');
        try {
          t.texts.push(JSON.parse(text));
        } catch {
          t.texts.push(text);
        }
      }
    });
    ws.on('close', (code) => {
      clearTimeout(timer);
      t.closeCode = code;
      resolve(t);
    });
    ws.on('error', () => undefined);
  });
}

export function execUrl(base: string, name: string, params: [string, string][], suffix = ''): string {
  const q = new URLSearchParams(params);
  return `${base.replace(/^http/, 'ws')}/v1/sprites/${name}/exec${suffix}?${q}`;
}

export function pollUntil<T>(
  fn: () => Promise<T | null | undefined | false>,
  timeoutMs = 30_000,
  what = 'condition',
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  return (async () => {
    for (;;) {
      const v = await fn();
      if (v) return v;
      if (Date.now() > deadline) throw new Error(`${what} not reached within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
}

/** A port free right now, so the daemon keeps its URL across restarts. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}
