import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { splice } from '../io/index.js';
import type { SpriteRecord } from '../registry/index.js';
import { dial, isRefused } from './dial.js';
import { appRequestHeaders } from './headers.js';
import { APP_IDLE_TIMEOUT_MS, type ProxyDeps } from './proxy-http.js';

/**
 * Proxies a WebSocket (any upgrade) to the sprite's app: connects, replays the request line
 * and headers, then splices both connections byte for byte. The app does the handshake.
 */
export async function proxyUpgrade(
  deps: ProxyDeps,
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
  sprite: SpriteRecord,
): Promise<void> {
  let target = await deps.targets.find(sprite);
  const upstream = await dial(target, target.retry).catch(async (e: unknown) => {
    // The cached port may belong to a service stopped since: ask the agent again, once.
    if (!isRefused(e)) throw e;
    deps.targets.forget(sprite.id);
    target = await deps.targets.find(sprite);
    return dial(target, true);
  });
  if (socket.destroyed) return void upstream.destroy();
  deps.lifecycle.connectionOpened(sprite.id);
  socket.once('close', () => deps.lifecycle.connectionClosed(sprite.id));
  const lines = [`${req.method ?? 'GET'} ${req.url ?? '/'} HTTP/1.1`];
  const headers = appRequestHeaders(req.headers, req.socket.remoteAddress ?? '', {
    upgrade: true,
    secure: deps.secure,
  });
  for (const [k, v] of Object.entries(headers)) {
    for (const value of Array.isArray(v) ? v : [v]) if (value !== undefined) lines.push(`${k}: ${value}`);
  }
  upstream.write(`${lines.join('\r\n')}\r\n\r\n`);
  if (head.length > 0) upstream.write(head);
  upstream.setTimeout(APP_IDLE_TIMEOUT_MS, () => upstream.destroy());
  splice(socket, upstream);
}
