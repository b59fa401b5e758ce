import type { Deadline } from '../abort.js';
import { ConnectionError } from '../errors.js';
import { describe } from '../http.js';

/**
 * A stream of JSON lines from the server (checkpoint and restore progress, session kills,
 * service logs). Read it with `for await`, `next()` or `processAll()`; `close()` releases
 * the connection early. Lines that are not JSON objects are skipped.
 */
export class NDJSONStream<T> implements AsyncIterable<T> {
  private readonly reader: ReadableStreamDefaultReader<Uint8Array>;
  private readonly decoder = new TextDecoder();
  private readonly convert: (raw: Record<string, unknown>) => T;
  private readonly deadline: Deadline;
  private buffered = '';
  private queue: T[] = [];
  private ended = false;

  /** @internal */
  constructor(response: Response, deadline: Deadline, convert: (raw: Record<string, unknown>) => T) {
    if (!response.body) throw new Error('the server answered without a body');
    this.reader = response.body.getReader();
    this.deadline = deadline;
    this.convert = convert;
  }

  /** The next event, or null at the end of the stream. */
  async next(): Promise<T | null> {
    while (this.queue.length === 0) {
      if (this.ended) return null;
      await this.fill();
    }
    return this.queue.shift() ?? null;
  }

  /** Calls `handler` for every event until the end (or until it throws). */
  async processAll(handler: (event: T) => void | Promise<void>): Promise<void> {
    try {
      for (let e = await this.next(); e !== null; e = await this.next()) await handler(e);
    } finally {
      await this.close();
    }
  }

  /** Every remaining event, in order. */
  async toArray(): Promise<T[]> {
    const out: T[] = [];
    await this.processAll((e) => void out.push(e));
    return out;
  }

  /** Stops reading and releases the connection. */
  async close(): Promise<void> {
    if (!this.ended) {
      this.ended = true;
      await this.reader.cancel().catch(() => undefined);
    }
    this.deadline.dispose();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<T> {
    try {
      for (let e = await this.next(); e !== null; e = await this.next()) yield e;
    } finally {
      await this.close();
    }
  }

  private async fill(): Promise<void> {
    let chunk: Awaited<ReturnType<ReadableStreamDefaultReader<Uint8Array>['read']>>;
    try {
      chunk = await this.reader.read();
    } catch (e) {
      this.ended = true;
      this.deadline.dispose();
      if (this.deadline.aborted) throw this.deadline.reason;
      throw new ConnectionError(`the stream was cut off: ${describe(e)}`, { cause: e });
    }
    if (chunk.done) {
      this.ended = true;
      this.deadline.dispose();
      this.take(this.buffered + this.decoder.decode());
      this.buffered = '';
      return;
    }
    const text = this.buffered + this.decoder.decode(chunk.value, { stream: true });
    const lastNewline = text.lastIndexOf('\n');
    if (lastNewline < 0) {
      this.buffered = text;
      return;
    }
    this.buffered = text.slice(lastNewline + 1);
    this.take(text.slice(0, lastNewline));
  }

  private take(text: string): void {
    for (const line of text.split('\n')) {
      if (line.trim() === '') continue;
      try {
        const v = JSON.parse(line) as unknown;
        if (v && typeof v === 'object' && !Array.isArray(v))
          this.queue.push(this.convert(v as Record<string, unknown>));
      } catch {
        // Not JSON: skipped, as the official clients do.
      }
    }
  }
}
