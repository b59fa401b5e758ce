import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import { checkExecRequest, handleExec } from './exec/index.js';

/**
 * sprite-agent: the one process the daemon talks to inside a sprite. It serves the
 * per-sprite API on the unix socket the daemon bound for it (inherited as fd 3), or on
 * SPRITE_AGENT_SOCKET in development.
 */
const started = Date.now();
process.title = 'sprite-agent';
const AGENT_VERSION = '0.1.0';
const EXEC_PATH = /^\/v1\/sprites\/[^/]+\/exec$/;

function spriteEnvironment(): Record<string, string> {
  try {
    const parsed = JSON.parse(process.env.SPRITE_ENVIRONMENT ?? '{}') as unknown;
    return parsed && typeof parsed === 'object' ? (parsed as Record<string, string>) : {};
  } catch {
    return {};
  }
}
let spriteEnv: Record<string, string> = { ...spriteEnvironment(), SPRITE_NAME: process.env.SPRITE_NAME ?? '' };

/**
 * A pre-booted sprite learns who it is when it is handed out: its name and environment
 * become the defaults of every command from then on. Only the daemon reaches this: the
 * public API never forwards /v1/internal/.
 */
function setIdentity(req: IncomingMessage, res: ServerResponse): void {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    try {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { name?: unknown; environment?: unknown };
      if (typeof body.name !== 'string' || typeof body.environment !== 'object' || body.environment === null) {
        return sendJson(res, 400, { error: 'bad_request', message: 'identity needs a name and an environment object' });
      }
      spriteEnv = { ...(body.environment as Record<string, string>), SPRITE_NAME: body.name };
      sendJson(res, 200, { ok: true });
    } catch {
      sendJson(res, 400, { error: 'bad_request', message: 'identity body must be JSON' });
    }
  });
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function handle(req: IncomingMessage, res: ServerResponse): void {
  const url = new URL(req.url ?? '/', 'http://agent');
  if (req.method === 'GET' && url.pathname === '/v1/health') {
    sendJson(res, 200, { ok: true, version: AGENT_VERSION, pid: process.pid, uptime_ms: Date.now() - started });
    return;
  }
  if (req.method === 'POST' && url.pathname === '/v1/internal/identity') return setIdentity(req, res);
  sendJson(res, 404, { error: 'not_found', message: `no such endpoint: ${req.method} ${url.pathname}` });
}

function rejectUpgrade(socket: Duplex, status: number, error: string, message: string): void {
  const body = JSON.stringify({ error, message });
  socket.end(`HTTP/1.1 ${status} ${status === 400 ? 'Bad Request' : 'Not Found'}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
}

const wss = new WebSocketServer({ noServer: true, maxPayload: 0, perMessageDeflate: false });
wss.on('headers', (headers) => headers.push('X-Sprite-Capabilities: signal'));

const server = createServer(handle);
server.keepAliveTimeout = 60_000;
server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
  const url = new URL(req.url ?? '/', 'http://agent');
  if (!EXEC_PATH.test(url.pathname)) return rejectUpgrade(socket, 404, 'not_found', `no WebSocket endpoint at ${url.pathname}`);
  const problem = checkExecRequest(url);
  if (problem) return rejectUpgrade(socket, 400, 'bad_request', problem);
  wss.handleUpgrade(req, socket, head, (ws) => handleExec(ws, req, spriteEnv));
});

const socketPath = process.env.SPRITE_AGENT_SOCKET;
if (socketPath) server.listen(socketPath);
else server.listen({ fd: Number(process.env.SPRITE_AGENT_FD ?? 3) });

function shutdown(): void {
  server.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 1000).unref();
}
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
