import { existsSync, mkdirSync, symlinkSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import {
  AGENT_HEALTH_PATH,
  AGENT_INTERNAL_PATHS,
  parseSpritePath,
  type PortListMessage,
  type SpritePathMatch,
} from '@sprites/protocol';
import { ExecParamError, httpExec, parseExecParams, startSession } from './exec/index.js';
import { handleFsRequest, serveFsWatch } from './fs/index.js';
import { PortWatcher } from './ports/index.js';
import { killSession, SessionRegistry } from './sessions/index.js';
import { finishUnreadBody, readLimited, sendJson } from './http-json.js';
import { serveProxy } from './proxy.js';
import { handleServices, Supervisor } from './services/index.js';

/**
 * sprite-agent: the one process the daemon talks to inside a sprite. It serves the
 * per-sprite API on the unix socket the daemon bound for it (inherited as fd 3), or on
 * SPRITE_AGENT_SOCKET in development.
 */
const started = Date.now();
process.title = 'sprite-agent';
const AGENT_VERSION = '0.1.0';
/** Bounds of what the agent reads from a client (docs/operations.md, Bounds and deadlines). */
const MAX_HEADER_BYTES = 16 * 1024;
const MAX_HEADERS = 100;
const HEADERS_TIMEOUT_MS = 30_000;
const MAX_IDENTITY_BODY = 256 * 1024;
/**
 * The largest WebSocket message a client may send (stdin frames, control messages, tunnel
 * data). PROTOCOL §5.8: the server must take large messages; Go's client sends a
 * `bytes.Reader` stdin as one. ws holds a message whole, and the agent's memory is the
 * sprite's own (its cgroup), so one connection costs at most this much.
 */
const MAX_WS_MESSAGE = 64 * 1024 * 1024;
const sessions = new SessionRegistry();
/** The port the sprite URL reaches when no service declares an `http_port`. */
const DEFAULT_HTTP_PORT = 8080;
const ports = new PortWatcher();

/** Port events go to every exec socket as text messages (PROTOCOL.md §5.5), while it is open. */
function forwardPortEvents(ws: WebSocket): void {
  const unsubscribe = ports.subscribe((e) => ws.readyState === ws.OPEN && ws.send(JSON.stringify(e)));
  ws.once('close', unsubscribe);
}

function linkState(root: string, linkDir: string): void {
  for (const name of ['services', 'logs']) {
    try {
      mkdirSync(`${root}/${name}`, { recursive: true, mode: 0o755 });
      if (!existsSync(`${linkDir}/${name}`)) symlinkSync(`${root}/${name}`, `${linkDir}/${name}`);
    } catch {
      // a development agent without /.sprite: the state directory alone is enough
    }
  }
}

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
 * Services: definitions and logs live on the sprite's own disk (so they survive boots and
 * travel with checkpoints); /.sprite is a tmpfs, so /.sprite/services and /.sprite/logs are
 * symlinks to them.
 */
const stateRoot = process.env.SPRITE_STATE_DIR ?? '/var/lib/sprite';
linkState(stateRoot, process.env.SPRITE_STATE_LINKS ?? '/.sprite');
const supervisor = new Supervisor({
  stateDir: `${stateRoot}/services`,
  logDir: `${stateRoot}/logs/services`,
  shownLogDir: '/.sprite/logs/services',
  environment: () => spriteEnv,
});

/**
 * Where the sprite URL goes: the `http_port` service (started if it is not running), else
 * port 8080. Only the daemon reaches /v1/internal/.
 */
function httpTarget(res: ServerResponse): void {
  const svc = supervisor.httpService();
  if (svc && !svc.running) supervisor.start(svc.name);
  sendJson(res, 200, {
    port: svc?.port ?? DEFAULT_HTTP_PORT,
    service: svc?.name ?? null,
    started: svc !== null && !svc.running,
  });
}

/**
 * A pre-booted sprite learns who it is when it is handed out: its name and environment
 * become the defaults of every command from then on. Only the daemon reaches this: the
 * public API never forwards /v1/internal/.
 */
async function setIdentity(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const { text, tooLarge } = await readLimited(req, MAX_IDENTITY_BODY);
  if (tooLarge) {
    finishUnreadBody(req, res);
    return sendJson(res, 413, {
      error: 'payload_too_large',
      message: `the identity body is larger than ${MAX_IDENTITY_BODY} bytes`,
    });
  }
  {
    try {
      const body = JSON.parse(text) as { name?: unknown; environment?: unknown };
      if (typeof body.name !== 'string' || typeof body.environment !== 'object' || body.environment === null) {
        return sendJson(res, 400, { error: 'bad_request', message: 'identity needs a name and an environment object' });
      }
      spriteEnv = { ...(body.environment as Record<string, string>), SPRITE_NAME: body.name };
      sendJson(res, 200, { ok: true });
    } catch {
      sendJson(res, 400, { error: 'bad_request', message: 'identity body must be JSON' });
    }
  }
}

/**
 * The endpoint a request path names (the protocol's path grammar), or null: a path that names
 * none, or one with segments no endpoint may be given, is a plain 404 here.
 */
function endpointOf(url: URL): SpritePathMatch | null {
  const parsed = parseSpritePath(url.pathname);
  return parsed?.ok ? parsed : null;
}

function handle(req: IncomingMessage, res: ServerResponse): void {
  const url = new URL(req.url ?? '/', 'http://agent');
  if (req.method === 'GET' && url.pathname === AGENT_HEALTH_PATH) {
    sendJson(res, 200, { ok: true, version: AGENT_VERSION, pid: process.pid, uptime_ms: Date.now() - started });
    return;
  }
  if (req.method === 'POST' && url.pathname === AGENT_INTERNAL_PATHS.identity)
    return void setIdentity(req, res).catch(() => res.destroy());
  if (req.method === 'POST' && url.pathname === AGENT_INTERNAL_PATHS.httpTarget) return httpTarget(res);
  const endpoint = endpointOf(url);
  switch (endpoint?.route) {
    case 'services':
      return handleServices(req, res, url, supervisor, {});
    case 'service':
      return handleServices(req, res, url, supervisor, { service: endpoint.params.service });
    case 'serviceAction':
      return handleServices(req, res, url, supervisor, endpoint.params);
    case 'fs':
      return handleFsRequest(req, res, endpoint.params.op, url.searchParams);
    case 'fsWatch':
      // Over plain HTTP, fs/watch is just an fs operation the filesystem API does not have.
      return handleFsRequest(req, res, 'watch', url.searchParams);
    case 'exec':
      if (req.method === 'GET' || req.method === 'HEAD') {
        sendJson(res, 200, { sessions: sessions.list().map((s) => s.summary()) });
        return;
      }
      if (req.method === 'POST') return httpExec(req, res, url.searchParams, spriteEnv);
      break;
    case 'execKill':
      if (req.method !== 'POST') break;
      void killSession(res, sessions, endpoint.params.session, url.searchParams).catch(() => res.destroy());
      return;
  }
  sendJson(res, 404, { error: 'not_found', message: `no such endpoint: ${req.method} ${url.pathname}` });
}

function rejectUpgrade(socket: Duplex, status: number, error: string, message: string): void {
  const body = JSON.stringify({ error, message });
  socket.end(
    `HTTP/1.1 ${status} ${status === 400 ? 'Bad Request' : status === 410 ? 'Gone' : 'Not Found'}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
  );
}

// A message past maxPayload closes its socket with 1009; ws closes one with a bad frame
// (1002) or bad UTF-8 text (1007) itself, and 'wsClientError' below keeps that from throwing.
const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_WS_MESSAGE, perMessageDeflate: false });
wss.on('wsClientError', (_err, socket) => socket.destroy());
wss.on('connection', (ws) => ws.on('error', () => undefined));
wss.on('headers', (headers) => headers.push('X-Sprite-Capabilities: signal'));

// Header bounds; requestTimeout stays 0 because a request body may be a long upload or a
// command's stdin (HTTP exec) that lasts as long as the command.
const server = createServer(
  { maxHeaderSize: MAX_HEADER_BYTES, headersTimeout: HEADERS_TIMEOUT_MS, requestTimeout: 0 },
  handle,
);
server.maxHeadersCount = MAX_HEADERS;
server.keepAliveTimeout = 60_000;
server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
  // 431 for oversized headers, 400 for anything unparseable, as JSON (PROTOCOL.md §2).
  const status = err.code === 'HPE_HEADER_OVERFLOW' ? 431 : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
  if (!socket.writable || err.code === 'ECONNRESET') return void socket.destroy();
  const error = status === 431 ? 'headers_too_large' : status === 408 ? 'request_timeout' : 'bad_request';
  const body = JSON.stringify({
    error,
    message:
      status === 431
        ? `request headers are larger than ${MAX_HEADER_BYTES} bytes`
        : status === 408
          ? 'the request headers did not arrive in time'
          : 'the request is not valid HTTP',
  });
  socket.end(
    `HTTP/1.1 ${status} ${status === 431 ? 'Request Header Fields Too Large' : status === 408 ? 'Request Timeout' : 'Bad Request'}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
  );
});
server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
  const url = new URL(req.url ?? '/', 'http://agent');
  const endpoint = endpointOf(url);
  if (endpoint?.route === 'portsWatch') {
    wss.handleUpgrade(req, socket, head, (ws) => {
      const list: PortListMessage = { type: 'port_list', ports: ports.current() };
      ws.send(JSON.stringify(list));
      forwardPortEvents(ws);
    });
    return;
  }
  if (endpoint?.route === 'proxy') {
    wss.handleUpgrade(req, socket, head, (ws) => serveProxy(ws));
    return;
  }
  if (endpoint?.route === 'fsWatch') {
    wss.handleUpgrade(req, socket, head, (ws) => serveFsWatch(ws));
    return;
  }
  if (endpoint?.route !== 'exec' && endpoint?.route !== 'execSession')
    return rejectUpgrade(socket, 404, 'not_found', `no WebSocket endpoint at ${url.pathname}`);
  // Attach: /exec/{id} or the legacy /exec?id= (PROTOCOL.md §5.9); cmd and path are ignored then.
  const attachId = endpoint.route === 'execSession' ? endpoint.params.session : url.searchParams.get('id');
  if (attachId) {
    const session = sessions.get(attachId);
    if (!session)
      return rejectUpgrade(socket, 404, 'session_not_found', `no running session ${attachId} in this sprite`);
    wss.handleUpgrade(req, socket, head, (ws) => {
      session.attach(ws, false);
      forwardPortEvents(ws);
    });
    return;
  }
  let params;
  try {
    params = parseExecParams(url.searchParams);
  } catch (e) {
    if (e instanceof ExecParamError) return rejectUpgrade(socket, 400, 'bad_request', e.message);
    throw e;
  }
  wss.handleUpgrade(req, socket, head, (ws) => {
    startSession(ws, params, spriteEnv, sessions);
    forwardPortEvents(ws);
  });
});

supervisor.boot();

const socketPath = process.env.SPRITE_AGENT_SOCKET;
if (socketPath) server.listen(socketPath);
else server.listen({ fd: Number(process.env.SPRITE_AGENT_FD ?? 3) });

function shutdown(): void {
  server.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 1000).unref();
}
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
