import { request as httpRequest, type Agent, type IncomingMessage, type ServerResponse } from 'node:http';
import type { SpriteLifecycle } from '../lifecycle/index.js';
import type { SpriteRecord } from '../registry/index.js';
import { dial, isRefused } from './dial.js';
import { UrlError } from './errors.js';
import { appRequestHeaders, appResponseHeaders } from './headers.js';
import type { Target } from './target-cache.js';
import type { SpriteTargets } from './targets.js';

/** A proxied connection (HTTP or WebSocket) with no bytes either way for this long is closed. */
export const APP_IDLE_TIMEOUT_MS = 10 * 60_000;

export interface ProxyDeps {
  /** An open connection keeps its sprite from idling. */
  lifecycle: Pick<SpriteLifecycle, 'connectionOpened' | 'connectionClosed'>;
  targets: SpriteTargets;
  /** Served over TLS: forwarded requests say `X-Forwarded-Proto: https`. */
  secure: boolean;
}

/** Proxies an HTTP request to the sprite's app, waking it and finding its port first. */
export async function proxyHttp(
  deps: ProxyDeps & { upstream: Agent },
  req: IncomingMessage,
  res: ServerResponse,
  sprite: SpriteRecord,
): Promise<void> {
  let target = await deps.targets.find(sprite);
  // A sprite that was just woken or a service just started gets a moment to listen.
  if (target.retry) (await dial(target, true)).destroy();
  deps.lifecycle.connectionOpened(sprite.id);
  res.once('close', () => deps.lifecycle.connectionClosed(sprite.id));
  const bodiless =
    req.headers['content-length'] === undefined || req.headers['content-length'] === '0'
      ? req.headers['transfer-encoding'] === undefined
      : false;
  for (let attempt = 0; ; attempt++) {
    try {
      return await send(deps, req, res, sprite, target);
    } catch (e) {
      // The cached port may belong to a service stopped since: ask the agent again (which
      // starts an http_port service) and retry once, if nothing of the body is lost.
      if (!isRefused(e) || attempt > 0 || !bodiless) throw e;
      deps.targets.forget(sprite.id);
      target = await deps.targets.find(sprite);
      (await dial(target, true)).destroy();
    }
  }
}

/** One request to the app and its answer streamed back; a failure before the answer rejects. */
function send(
  deps: ProxyDeps & { upstream: Agent },
  req: IncomingMessage,
  res: ServerResponse,
  sprite: SpriteRecord,
  target: Target,
): Promise<void> {
  const { address, port } = target;
  return new Promise<void>((resolve, reject) => {
    const upstream = httpRequest(
      {
        host: address,
        port,
        method: req.method,
        path: req.url,
        headers: appRequestHeaders(req.headers, req.socket.remoteAddress ?? '', {
          upgrade: false,
          secure: deps.secure,
        }),
        agent: deps.upstream,
      },
      (answer) => {
        try {
          res.writeHead(answer.statusCode ?? 502, answer.statusMessage, appResponseHeaders(answer.headers));
        } catch {
          // Headers Node refuses to send (invalid characters from the app): answer 502.
          answer.destroy();
          return reject(new UrlError(502, `the app in sprite ${sprite.name} sent headers that cannot be forwarded`));
        }
        answer.pipe(res);
        answer.once('end', resolve);
        answer.once('error', reject);
      },
    );
    upstream.setTimeout(APP_IDLE_TIMEOUT_MS, () =>
      upstream.destroy(Object.assign(new Error('idle'), { code: 'ETIMEDOUT' })),
    );
    upstream.once('error', (e: NodeJS.ErrnoException) => {
      deps.targets.forget(sprite.id);
      if (e.code === 'ETIMEDOUT')
        return reject(
          new UrlError(
            504,
            `the app in sprite ${sprite.name} on port ${port} did not answer within ${APP_IDLE_TIMEOUT_MS / 1000} s`,
          ),
        );
      reject(
        new UrlError(502, `the app in sprite ${sprite.name} on port ${port} did not answer (${e.code ?? e.message})`),
      );
    });
    res.once('close', () => upstream.destroy());
    // Small requests and answers must not wait for delayed ACKs (Nagle): 40 ms each.
    upstream.setNoDelay(true);
    req.socket.setNoDelay(true);
    req.pipe(upstream);
  });
}
