import { connect, isIPv6, type Socket } from 'node:net';
import type { RawData, WebSocket } from 'ws';

/** Bytes queued towards the client above which the TCP side is paused. */
const HIGH_WATER = 4 * 1024 * 1024;
/** How long the first message (the target) may take. */
const INIT_TIMEOUT_MS = 10_000;

function fail(ws: WebSocket, message: string): void {
  if (ws.readyState === ws.OPEN) ws.send(JSON.stringify({ status: 'error', error: message }));
  ws.close(1011, message.slice(0, 120));
}

function bytes(data: RawData): Buffer {
  return Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);
}

/** Parses `{"host","port"}`; `host` defaults to localhost, IPv6 literals come without brackets. */
export function parseTarget(text: string): { host: string; port: number } | string {
  let msg: unknown;
  try {
    msg = JSON.parse(text);
  } catch {
    return 'the first message must be JSON: {"host":"localhost","port":5432}';
  }
  if (!msg || typeof msg !== 'object') return 'the first message must be a JSON object';
  const { host, port } = msg as { host?: unknown; port?: unknown };
  if (host !== undefined && typeof host !== 'string') return 'host must be a string';
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535)
    return 'port must be an integer from 1 to 65535';
  const bare = (host ?? '').replace(/^\[(.*)\]$/, '$1');
  return { host: bare === '' ? 'localhost' : bare, port };
}

/**
 * WSS /v1/sprites/{name}/proxy (PROTOCOL.md §10): the first text message names a TCP target,
 * dialled from inside the sprite (so `localhost` is the sprite's own loopback and names
 * resolve with the sprite's resolver); then raw bytes both ways as binary messages. Either
 * side closing closes the other: the target's end is close 1000, a failure 1011.
 */
export function serveProxy(ws: WebSocket): void {
  let target: Socket | null = null;
  const timer = setTimeout(() => fail(ws, 'no target named within 10 s'), INIT_TIMEOUT_MS);
  ws.once('close', () => {
    clearTimeout(timer);
    target?.destroy();
  });
  ws.once('message', (data, isBinary) => {
    clearTimeout(timer);
    const parsed = isBinary
      ? 'the first message must be a text frame naming the target'
      : parseTarget(bytes(data).toString('utf8'));
    if (typeof parsed === 'string') return fail(ws, parsed);
    const label = `${isIPv6(parsed.host) ? `[${parsed.host}]` : parsed.host}:${parsed.port}`;
    const socket = connect({ host: parsed.host, port: parsed.port });
    target = socket;
    socket.setNoDelay(true);
    let connected = false;
    socket.once('connect', () => {
      connected = true;
      ws.send(JSON.stringify({ status: 'connected', target: label }));
      ws.on('message', (chunk, binary) => {
        if (!binary) return; // text after the handshake carries nothing for the target
        if (!socket.write(bytes(chunk))) {
          ws.pause();
          socket.once('drain', () => ws.resume());
        }
      });
      socket.on('data', (chunk: Buffer) => {
        ws.send(chunk, { binary: true });
        if (ws.bufferedAmount > HIGH_WATER) {
          socket.pause();
          const wait = setInterval(() => {
            if (ws.bufferedAmount <= HIGH_WATER / 2 || ws.readyState !== ws.OPEN) {
              clearInterval(wait);
              socket.resume();
            }
          }, 5);
        }
      });
    });
    socket.on('error', (e: NodeJS.ErrnoException) => {
      if (!connected) return fail(ws, `could not connect to ${label} inside the sprite: ${e.code ?? e.message}`);
      ws.close(1011, 'the target connection failed');
    });
    socket.on('close', () => {
      if (connected && ws.readyState === ws.OPEN) ws.close(1000);
    });
  });
}
