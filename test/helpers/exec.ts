/**
 * The one raw exec client of the tests and the benches: the public exec WebSocket
 * (PROTOCOL.md §5) spoken with `ws`, frame by frame, without the SDK. Tests that mean to
 * exercise the SDK use the SDK; these helpers are for checking the wire itself and for
 * measuring it without a client library in between.
 *
 * - `execInSprite` runs a command to its exit and collects its output (and timings).
 * - `rawExec` records every frame of a scripted conversation until the socket closes.
 * - `openSocket` is a bare authenticated socket (a command held open, a handshake probe).
 */
import WebSocket from 'ws';

/** Non-TTY frame ids (PROTOCOL.md §5.3): the first byte of a binary frame. */
const STDIN = 0;
const STDOUT = 1;
const STDERR = 2;
const EXIT = 3;
const STDIN_EOF = 4;

/** The server answered the WebSocket upgrade with plain HTTP (401, 404, 400, ...). */
export class HandshakeError extends Error {
  constructor(
    readonly status: number | undefined,
    readonly body: string,
  ) {
    super(`WebSocket handshake refused: HTTP ${status} ${body}`);
    this.name = 'HandshakeError';
  }
}

/** `ws://…/v1/sprites/{name}/exec{suffix}?{params}` for an `http://…` base URL. */
export function execUrl(base: string, name: string, params: [string, string][], suffix = ''): string {
  const q = new URLSearchParams(params);
  return `${base.replace(/^http/, 'ws')}/v1/sprites/${name}/exec${suffix}?${q.toString()}`;
}

/** A WebSocket to `url`, the token (if any) as a bearer; compression as `ws` defaults unless turned off. */
export function openSocket(url: string, token: string | null, opts: { perMessageDeflate?: boolean } = {}): WebSocket {
  return new WebSocket(url, {
    headers: token ? { authorization: `Bearer ${token}` } : {},
    ...(opts.perMessageDeflate === false ? { perMessageDeflate: false } : {}),
  });
}

/** Calls `refused` with the status and body when the upgrade is answered with plain HTTP. */
function onRefused(ws: WebSocket, refused: (status: number | undefined, body: string) => void): void {
  ws.on('unexpected-response', (_req, res) => {
    let body = '';
    res.on('data', (d: Buffer) => (body += d.toString()));
    res.on('end', () => refused(res.statusCode, body));
  });
}

export interface ExecOptions {
  stdin?: string | Buffer;
  /** `KEY=VALUE` entries. */
  env?: string[];
  dir?: string;
  /** The whole exec, handshake to exit (default 120 s). */
  timeoutMs?: number;
  /** Keep stdout (the default); false only counts its bytes, for throughput runs. */
  keepOutput?: boolean;
  /** false measures the exec path without compression (the benches). */
  perMessageDeflate?: boolean;
}

export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
  /** Text frames received (session_info and the like). */
  messages: string[];
  /** Bytes of stdout, also when it was not kept. */
  stdoutBytes: number;
  /** From the call to the first stdout byte (to the exit when there was none), in ms. */
  firstOutputMs: number;
  /** From the call to the exit frame, in ms. */
  exitMs: number;
}

/** The exec query for argv (PROTOCOL.md §5.1): cmd per word, path, env, dir, stdin. */
function execParams(argv: string[], opts: ExecOptions): [string, string][] {
  return [
    ...argv.map((a): [string, string] => ['cmd', a]),
    ['path', argv[0] ?? ''],
    ...(opts.env ?? []).map((e): [string, string] => ['env', e]),
    ...(opts.dir ? [['dir', opts.dir] as [string, string]] : []),
    ['stdin', opts.stdin !== undefined ? 'true' : 'false'],
  ];
}

/**
 * Runs argv in a sprite through the exec WebSocket (non-TTY framing) and resolves at its
 * exit frame. Rejects with a `HandshakeError` (status, body) when the upgrade is refused,
 * and when the socket closes or the time runs out before the exit.
 */
export function execInSprite(
  baseUrl: string,
  token: string,
  name: string,
  argv: string[],
  opts: ExecOptions = {},
): Promise<ExecResult> {
  const t0 = performance.now();
  const url = execUrl(baseUrl, name, execParams(argv, opts));
  const keep = opts.keepOutput !== false;
  return new Promise((resolve, reject) => {
    const ws = openSocket(url, token, opts);
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    const messages: string[] = [];
    let stdoutBytes = 0;
    let firstOutputMs = -1;
    let done = false;
    const timer = setTimeout(() => {
      ws.terminate();
      reject(new Error(`exec ${argv.join(' ')} timed out`));
    }, opts.timeoutMs ?? 120_000);
    onRefused(ws, (status, body) => {
      clearTimeout(timer);
      reject(new HandshakeError(status, body));
    });
    ws.on('open', () => {
      if (opts.stdin !== undefined) ws.send(Buffer.concat([Buffer.from([STDIN]), Buffer.from(opts.stdin)]));
      ws.send(Buffer.from([STDIN_EOF]));
    });
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (!isBinary) return void messages.push(data.toString('utf8'));
      if (data[0] === STDOUT) {
        if (firstOutputMs < 0) firstOutputMs = performance.now() - t0;
        stdoutBytes += data.length - 1;
        if (keep) out.push(data.subarray(1));
      } else if (data[0] === STDERR) err.push(data.subarray(1));
      else if (data[0] === EXIT) {
        const exitMs = performance.now() - t0;
        done = true;
        clearTimeout(timer);
        resolve({
          code: data[1] ?? 0,
          stdout: Buffer.concat(out).toString(),
          stderr: Buffer.concat(err).toString(),
          messages,
          stdoutBytes,
          firstOutputMs: firstOutputMs < 0 ? exitMs : firstOutputMs,
          exitMs,
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

/** Every frame of a WebSocket conversation, as received. */
export interface Transcript {
  /** Text frames, parsed when they are JSON. */
  texts: unknown[];
  /** Binary frames as received. */
  binaries: Buffer[];
  closeCode: number | null;
}

/**
 * A raw WebSocket client that records every frame, for checking framing byte by byte.
 * `script` runs once the socket is open; the promise settles when the socket closes (a
 * refused handshake rejects with a `HandshakeError`).
 */
export function rawExec(
  url: string,
  token: string,
  script: (ws: WebSocket) => void = () => undefined,
  timeoutMs = 60_000,
): Promise<Transcript> {
  return new Promise((resolve, reject) => {
    const ws = openSocket(url, token);
    const t: Transcript = { texts: [], binaries: [], closeCode: null };
    const timer = setTimeout(() => {
      ws.terminate();
      reject(new Error(`no close within ${timeoutMs} ms: ${JSON.stringify(t.texts)}`));
    }, timeoutMs);
    onRefused(ws, (status, body) => {
      clearTimeout(timer);
      reject(new HandshakeError(status, body));
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
    // A failed connection also closes (1006): the transcript says how it ended.
    ws.on('error', () => undefined);
  });
}

/** Opens a WebSocket and reports how the handshake ended (101, or the status and body). */
export function wsHandshake(url: string, token: string | null): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const ws = openSocket(url, token);
    ws.on('open', () => {
      ws.terminate();
      resolve({ status: 101, body: '' });
    });
    onRefused(ws, (status, body) => resolve({ status: status ?? 0, body }));
    ws.on('error', (e) => reject(e));
  });
}
