import { createServer } from 'node:net';

// The exec client lives in exec.ts; many tests import these two from here.
export { execUrl, rawExec, type Transcript } from './exec.js';

/** Calls `fn` every 100 ms until it returns something truthy (that value), or throws after `timeoutMs`. */
export function pollUntil<T>(
  fn: () => T | null | undefined | false | Promise<T | null | undefined | false>,
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
