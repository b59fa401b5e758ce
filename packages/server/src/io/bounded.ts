import type { Readable } from 'node:stream';

/** A body went past its cap; reading stopped there. */
export class BodyTooLargeError extends Error {
  constructor(readonly limit: number) {
    super(`the body is larger than ${limit} bytes`);
    this.name = 'BodyTooLargeError';
  }
}

/** Something did not finish within its deadline. */
export class DeadlineError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DeadlineError';
  }
}

export interface ReadBoundedOptions {
  /** The most bytes kept; one more stops the read with BodyTooLargeError. */
  limit: number;
  /** The whole body must have arrived within this many ms (DeadlineError otherwise). */
  deadlineMs?: number;
}

/**
 * Reads a stream to its end into one Buffer, never holding more than `limit` bytes and never
 * waiting past the deadline. On failure the stream is paused and its listeners removed; the
 * caller decides whether to destroy it (a hostile peer) or drain it (a client to answer 413).
 */
export function readBounded(stream: Readable, options: ReadBoundedOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let timer: NodeJS.Timeout | undefined;
    const settle = (error: Error | null) => {
      if (timer) clearTimeout(timer);
      stream.off('data', onData);
      stream.off('end', onEnd);
      stream.off('error', onError);
      stream.off('close', onClose);
      if (error) {
        stream.pause();
        reject(error);
      } else resolve(Buffer.concat(chunks, size));
    };
    const onData = (chunk: Buffer | string) => {
      const b = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      size += b.length;
      if (size > options.limit) return settle(new BodyTooLargeError(options.limit));
      chunks.push(b);
    };
    const onEnd = () => settle(null);
    const onError = (e: Error) => settle(e);
    const onClose = () => settle(new Error('the connection closed before the body ended'));
    if (options.deadlineMs !== undefined) {
      timer = setTimeout(
        () => settle(new DeadlineError(`the body did not arrive within ${options.deadlineMs} ms`)),
        options.deadlineMs,
      );
    }
    stream.on('data', onData);
    stream.once('end', onEnd);
    stream.once('error', onError);
    stream.once('close', onClose);
  });
}
