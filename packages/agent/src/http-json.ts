import type { IncomingMessage, ServerResponse } from 'node:http';

/** What a refused body's sender may still push after the answer before the connection is cut. */
const DISCARD_AFTER_REFUSAL_BYTES = 1024 * 1024;
/** How long after the answer a refused body's sender has to stop before the connection is cut. */
const DISCARD_AFTER_REFUSAL_MS = 2000;

/** Answers with a JSON body and its length. */
export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/**
 * A request body as text. Past `limit` bytes (or when content-length announces more) it
 * stops at once with `tooLarge`, keeping nothing more; the caller answers 413 and
 * `finishUnreadBody` ends the connection.
 */
export function readLimited(req: IncomingMessage, limit: number): Promise<{ text: string; tooLarge: boolean }> {
  return new Promise((resolve, reject) => {
    const announced = Number(req.headers['content-length'] ?? 0);
    if (Number.isFinite(announced) && announced > limit) {
      resolve({ text: '', tooLarge: true });
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (c: Buffer) => {
      size += c.length;
      if (size <= limit) {
        chunks.push(c);
        return;
      }
      chunks.length = 0;
      req.pause();
      req.off('data', onData);
      resolve({ text: '', tooLarge: true });
    };
    req.on('data', onData);
    req.on('end', () => resolve({ text: Buffer.concat(chunks).toString('utf8'), tooLarge: false }));
    req.on('error', reject);
  });
}

/**
 * After an answer was sent to a request whose body was not read to its end (refused as too
 * large, or failed halfway): the rest of the body is discarded, up to a bound in bytes and
 * time, and then the connection is cut. A body that ends within the bound keeps the
 * connection: closing it at once would reset the sender mid-write (the daemon, forwarding a
 * small upload, would see EPIPE instead of the answer). Call before `sendJson`.
 */
export function finishUnreadBody(req: IncomingMessage, res: ServerResponse): void {
  if (req.complete) return;
  let discarded = 0;
  const cut = () => req.socket.destroy();
  req.on('data', (c: Buffer) => {
    discarded += c.length;
    if (discarded > DISCARD_AFTER_REFUSAL_BYTES) cut();
  });
  req.resume();
  res.once('finish', () => setTimeout(() => req.complete || cut(), DISCARD_AFTER_REFUSAL_MS).unref());
}
