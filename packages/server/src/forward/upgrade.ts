import type { IncomingMessage } from 'node:http';
import { connect } from 'node:net';
import type { Duplex } from 'node:stream';
import { ErrorCode, SpriteError, type SpriteRouteParams, type WebSocketRoute } from '@sprites/protocol';
import { authenticateHeader, findSprite, rejectUpgrade as reject, tokenFromProtocols } from '../access/index.js';
import { hostFault } from '../host/index.js';
import { splice } from '../io/index.js';
import type { SpriteLifecycle } from '../lifecycle/index.js';
import { loggablePath, type Logger } from '../log.js';
import type { Registry } from '../registry/index.js';
import { PRIVATE_HEADERS } from './http.js';
import { agentPath, decodeSegment, webSocketPath } from './path.js';
import type { SpriteUrlRouter } from '../url/index.js';

/**
 * How long the agent may take to answer a WebSocket handshake. A stopped or replaced agent
 * that accepts the connection and never answers gets the caller a 504, not a hang.
 */
export const AGENT_HANDSHAKE_MS = 10_000;

export interface UpgradeDeps {
  registry: Registry;
  lifecycle: SpriteLifecycle;
  log: Logger;
  /** WebSockets to sprite URLs go to the sprite's app instead. */
  spriteUrls?: SpriteUrlRouter;
}

/**
 * Handles an HTTP upgrade on the public server: checks the token and the sprite, makes sure
 * the sprite runs, then splices the client's connection onto the agent's socket byte for
 * byte. The agent does the WebSocket handshake itself; TCP backpressure flows end to end.
 */
export interface UpgradeHandler {
  /** A property, not a method: it is handed to `server.on('upgrade')` as is. */
  handle: (req: IncomingMessage, socket: Duplex, head: Buffer) => void;
  /** Ends every forwarded connection (shutdown: the HTTP server does not track them). */
  closeAll: () => void;
}

export function createUpgradeHandler(deps: UpgradeDeps): UpgradeHandler {
  const open = new Set<Duplex>();
  const handle = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => undefined);
    open.add(socket);
    socket.once('close', () => open.delete(socket));
    if (deps.spriteUrls?.matches(req.headers.host)) {
      void deps.spriteUrls.handleUpgrade(req, socket, head);
      return;
    }
    void forward(deps, req, socket, head).catch((e: unknown) => {
      if (e instanceof SpriteError) return reject(socket, e.status, e.toBody());
      // Waking the sprite failed on the host (or the pool is full): say so, not "bad gateway".
      const fault = hostFault(e);
      if (fault) {
        deps.log.error({ err: e, path: loggablePath(req.url) }, 'waking the sprite for a WebSocket failed on the host');
        return reject(socket, fault.status, fault.toBody());
      }
      // The query may hold secrets (commands, environment): only the path is logged.
      deps.log.warn({ err: e, path: loggablePath(req.url) }, 'upgrade forwarding failed');
      reject(socket, 502, {
        error: ErrorCode.BadGateway,
        message: "could not reach the sprite's agent; retry in a moment",
      });
    });
  };
  return {
    handle,
    closeAll: () => {
      for (const socket of open) socket.destroy();
    },
  };
}

async function forward(deps: UpgradeDeps, req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
  const url = req.url ?? '/';
  const path = url.split('?')[0] ?? '/';
  // The per-sprite WebSocket endpoints the agent serves; the daemon authenticates, wakes and forwards.
  const endpoint = webSocketPath(path);
  if (!endpoint) throw new SpriteError(ErrorCode.NotFound, `no WebSocket endpoint at ${path}`);
  // Browsers send the token as a sub-protocol; it is taken out before anything else sees it.
  const fromProtocol = req.headers.authorization ? null : tokenFromProtocols(req.headers['sec-websocket-protocol']);
  const caller = await authenticateHeader(
    deps.registry,
    fromProtocol ? `Bearer ${fromProtocol.token}` : req.headers.authorization,
  );
  const sprite = await findSprite(deps.registry, caller.org.id, decodeSegment(endpoint.name));
  const params: Record<string, string> = { name: sprite.name };
  for (const [param, raw] of Object.entries(endpoint.params)) params[param] = decodeSegment(raw);
  // The table gave the route's parameter names; agentPath checks each value before use.
  const forwardedPath = agentPath(endpoint.route, params as SpriteRouteParams<WebSocketRoute>, url);
  await deps.lifecycle.ensureRunning(sprite.id);
  if (socket.destroyed) return;

  const agent = connect(deps.lifecycle.agentSocket(sprite.id));
  agent.on('error', () => undefined);
  await new Promise<void>((resolve, reject) => {
    agent.once('connect', resolve);
    agent.once('error', (e) =>
      reject(
        new SpriteError(
          ErrorCode.BadGateway,
          `the sprite's agent is not reachable (${(e as NodeJS.ErrnoException).code ?? e.message}); retry in a moment`,
        ),
      ),
    );
  });
  const lines = [`${req.method ?? 'GET'} ${forwardedPath} HTTP/1.1`];
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    const key = req.rawHeaders[i] ?? '';
    if (PRIVATE_HEADERS.has(key.toLowerCase())) continue;
    if (fromProtocol && key.toLowerCase() === 'sec-websocket-protocol') {
      lines.push(`${key}: ${fromProtocol.rest}`);
      continue;
    }
    lines.push(`${key}: ${req.rawHeaders[i + 1] ?? ''}`);
  }
  agent.write(`${lines.join('\r\n')}\r\n\r\n`);
  if (head.length > 0) agent.write(head);
  // Nothing reaches the caller until the agent has started its answer within the deadline.
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      agent.destroy();
      reject(
        new SpriteError(
          ErrorCode.GatewayTimeout,
          `the sprite's agent did not answer within ${AGENT_HANDSHAKE_MS / 1000} s; retry, or restart the sprite if it persists`,
        ),
      );
    }, AGENT_HANDSHAKE_MS);
    agent.once('readable', () => {
      clearTimeout(timer);
      resolve();
    });
    agent.once('close', () => {
      clearTimeout(timer);
      reject(
        new SpriteError(
          ErrorCode.BadGateway,
          "the sprite's agent closed the connection without answering; retry in a moment",
        ),
      );
    });
  });
  if (socket.destroyed) return void agent.destroy();
  splice(socket, agent);
  // An open connection keeps the sprite from idling.
  deps.lifecycle.connectionOpened(sprite.id);
  socket.once('close', () => deps.lifecycle.connectionClosed(sprite.id));
}
