import type { IncomingMessage } from 'node:http';

/** How long a connection whose upload was refused is drained before it is closed. */
export const LINGER_MS = 2000;

/**
 * Closes the connection of a request answered before its body arrived (413, a refused
 * upload), after reading and dropping what still comes for a moment. Closing at once with
 * unread bytes resets the connection, and the reset can destroy the answer before the client
 * reads it; keeping it open would let a half-sent request hold the daemon up.
 */
export function lingerClose(req: IncomingMessage): void {
  if (req.complete) return;
  req.unpipe();
  req.resume();
  setTimeout(() => req.socket.destroy(), LINGER_MS).unref();
}
