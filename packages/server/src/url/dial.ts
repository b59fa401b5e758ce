import { connect, type Socket } from 'node:net';
import { UrlError } from './errors.js';
import type { Target } from './target-cache.js';

/** How long a connection to a just-woken sprite or just-started service is retried. */
const STARTUP_RETRY_MS = 15_000;
/** How long one TCP connect to a sprite's app may take (a sprite that drops SYNs must not hang us). */
export const APP_CONNECT_TIMEOUT_MS = 10_000;

/** A refused connection to the app (nothing listens on its port), as `dial` reports it. */
export function isRefused(e: unknown): boolean {
  return e instanceof UrlError && e.status === 502 && /ECONNREFUSED/.test(e.message);
}

/** Connects to a sprite's app, retrying refusals for a while when the service is only now starting. */
export async function dial(target: Pick<Target, 'address' | 'port'>, retry: boolean): Promise<Socket> {
  const { address, port } = target;
  const deadline = Date.now() + (retry ? STARTUP_RETRY_MS : 0);
  for (;;) {
    try {
      return await new Promise<Socket>((resolve, reject) => {
        const s = connect({ host: address, port });
        const timer = setTimeout(
          () => s.destroy(Object.assign(new Error('connect timed out'), { code: 'ETIMEDOUT' })),
          APP_CONNECT_TIMEOUT_MS,
        );
        s.once('connect', () => {
          clearTimeout(timer);
          resolve(s);
        });
        s.once('error', (e) => {
          clearTimeout(timer);
          reject(e);
        });
      });
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ETIMEDOUT')
        throw new UrlError(
          504,
          `the sprite did not accept a connection on port ${port} within ${APP_CONNECT_TIMEOUT_MS} ms`,
        );
      if (code !== 'ECONNREFUSED' || Date.now() >= deadline) {
        throw new UrlError(
          502,
          `nothing answers on port ${port} in the sprite (${code ?? String(e)}); run your app on 0.0.0.0:${port}, or create a service with http_port`,
        );
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}
