import type { IncomingMessage } from 'node:http';

/** How long a connection whose upload was refused is drained before it is closed... */
export const LINGER_MS = 2000;
/** ...and how much of it is read and dropped at most meanwhile. */
export const LINGER_MAX_BYTES = 64 * 1024 * 1024;

/**
 * Closes the connection of a request answered before its body arrived (413, a refused
 * upload), after reading and dropping what still comes for a moment. Closing at once with
 * unread bytes resets the connection, and the reset can destroy the answer before the client
 * reads it; keeping it open would let a half-sent request hold the daemon up.
 */
export function lingerClose(req: IncomingMessage): void {
  if (req.complete) return;
  req.unpipe();
  let dropped = 0;
  req.on('data', (chunk: Buffer) => {
    dropped += chunk.length;
    if (dropped > LINGER_MAX_BYTES) req.socket.destroy();
  });
  req.resume();
  setTimeout(() => req.socket.destroy(), LINGER_MS).unref();
}
