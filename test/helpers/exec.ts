import WebSocket from 'ws';

export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
  /** Text frames received (session_info and the like). */
  messages: string[];
}

/** Runs a command through the public exec WebSocket (non-TTY framing, PROTOCOL.md §5.3). */
export function execInSprite(
  baseUrl: string,
  token: string,
  name: string,
  argv: string[],
  opts: { stdin?: string | Buffer; env?: string[]; dir?: string; timeoutMs?: number } = {},
): Promise<ExecResult> {
  const q = new URLSearchParams();
  for (const a of argv) q.append('cmd', a);
  q.append('path', argv[0] ?? '');
  for (const e of opts.env ?? []) q.append('env', e);
  if (opts.dir) q.append('dir', opts.dir);
  q.append('stdin', opts.stdin !== undefined ? 'true' : 'false');
  const url = `${baseUrl.replace(/^http/, 'ws')}/v1/sprites/${name}/exec?${q}`;
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers: { authorization: `Bearer ${token}` } });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    const messages: string[] = [];
    let done = false;
    const timer = setTimeout(() => {
      ws.terminate();
      reject(new Error(`exec ${argv.join(' ')} timed out`));
    }, opts.timeoutMs ?? 120_000);
    ws.on('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => {
        clearTimeout(timer);
        const e = new Error(`exec handshake failed: HTTP ${res.statusCode} ${body}`) as Error & {
          status?: number;
          body?: string;
        };
        e.status = res.statusCode;
        e.body = body;
        reject(e);
      });
    });
    ws.on('open', () => {
      if (opts.stdin !== undefined) ws.send(Buffer.concat([Buffer.from([0]), Buffer.from(opts.stdin)]));
      ws.send(Buffer.from([4]));
    });
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (!isBinary) return void messages.push(data.toString('utf8'));
      if (data[0] === 1) out.push(data.subarray(1));
      else if (data[0] === 2) err.push(data.subarray(1));
      else if (data[0] === 3) {
        done = true;
        clearTimeout(timer);
        resolve({
          code: data[1] ?? 0,
          stdout: Buffer.concat(out).toString(),
          stderr: Buffer.concat(err).toString(),
          messages,
        });
        ws.close();
      }
    });
    ws.on('error', (e) => {
      clearTimeout(timer);
      if (!done) reject(e);
    });
    ws.on('close', () => {
      clearTimeout(timer);
      if (!done) reject(new Error(`exec ${argv.join(' ')}: connection closed without exit`));
    });
  });
}

/** Opens a WebSocket and reports how the handshake ended (101, or the status and body). */
export function wsHandshake(url: string, token: string | null): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers: token ? { authorization: `Bearer ${token}` } : {} });
    ws.on('open', () => {
      ws.terminate();
      resolve({ status: 101, body: '' });
    });
    ws.on('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    ws.on('error', (e) => reject(e));
  });
}
