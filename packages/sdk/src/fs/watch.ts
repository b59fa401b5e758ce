import type { Channel } from '../channel.js';
import { spritePath } from '@sprites/protocol';
import type { SpriteContext } from '../platform.js';
import { Emitter } from '../emitter.js';
import { ConnectionError } from '../errors.js';
import type { StreamKinds } from '../platform.js';

export interface FilesystemWatchOptions {
  recursive?: boolean;
  signal?: AbortSignal;
}

/** A change inside the sprite, or the subscription's acknowledgement or error. */
export interface FilesystemWatchEvent {
  type: 'subscribed' | 'event' | 'error' | (string & {});
  paths?: string[];
  path?: string;
  event?: 'write' | 'create' | 'remove' | 'rename' | 'chmod' | (string & {});
  timestamp?: string;
  size?: number;
  isDir?: boolean;
  message?: string;
}

interface WatcherEvents extends Record<string, unknown[]> {
  event: [e: FilesystemWatchEvent];
  error: [err: Error];
  close: [];
}

/**
 * Changes under watched paths, over one WebSocket. Iterate it (`for await`), or call
 * `next()`; `close()` ends it (a `break` out of the loop does too).
 */
export class FilesystemWatcher extends Emitter<WatcherEvents> implements AsyncIterable<FilesystemWatchEvent> {
  private readonly channel: Channel;
  private readonly queue: FilesystemWatchEvent[] = [];
  private waiters: ((e: FilesystemWatchEvent | null) => void)[] = [];
  private closed = false;
  private failure: Error | undefined;
  private readonly subscribed: Promise<void>;

  /** @internal Use `filesystem.watch()`. */
  constructor(ctx: SpriteContext<StreamKinds>, paths: string[], workingDir: string, options: FilesystemWatchOptions) {
    super();
    let ack!: { resolve: () => void; reject: (e: Error) => void };
    this.subscribed = new Promise<void>((resolve, reject) => {
      ack = { resolve, reject };
    });
    this.subscribed.catch(() => undefined);
    const url = ctx.transport.wsURL(spritePath('fsWatch', { name: ctx.name }));
    this.channel = ctx.platform.connect(url, ctx.transport.bearerToken, {
      open: () =>
        this.channel.send(
          JSON.stringify({ type: 'subscribe', paths, recursive: options.recursive ?? false, workingDir }),
        ),
      message: (data) => {
        if (typeof data !== 'string') return;
        let e: FilesystemWatchEvent;
        try {
          e = JSON.parse(data) as FilesystemWatchEvent;
        } catch {
          return;
        }
        if (e.type === 'subscribed') ack.resolve();
        if (e.type === 'error') ack.reject(new Error(e.message ?? 'the watch was refused'));
        this.push(e);
      },
      close: (code, _reason, error) => {
        const err =
          error ?? (this.closed ? undefined : new ConnectionError(`the watch connection closed (code ${code})`));
        ack.reject(err ?? new ConnectionError('the watch was closed'));
        this.end(err);
      },
    });
    options.signal?.addEventListener('abort', () => this.close(), { once: true });
  }

  /** @internal Resolves once the server confirmed the subscription. */
  ready(): Promise<void> {
    return this.subscribed;
  }

  /** The next event, or null once the watcher is closed. */
  next(): Promise<FilesystemWatchEvent | null> {
    const e = this.queue.shift();
    if (e) return Promise.resolve(e);
    if (this.closed) return Promise.resolve(null);
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  isClosed(): boolean {
    return this.closed;
  }

  /** Why the watcher ended, if it was not closed by the caller. */
  get error(): Error | undefined {
    return this.failure;
  }

  close(): void {
    if (this.closed) return;
    this.end();
    this.channel.close(1000);
  }

  async *[Symbol.asyncIterator](): AsyncIterator<FilesystemWatchEvent> {
    try {
      for (let e = await this.next(); e !== null; e = await this.next()) yield e;
    } finally {
      this.close();
    }
  }

  private push(e: FilesystemWatchEvent): void {
    this.emit('event', e);
    const waiter = this.waiters.shift();
    if (waiter) waiter(e);
    else this.queue.push(e);
  }

  private end(err?: Error): void {
    if (this.closed) return;
    this.closed = true;
    if (err) {
      this.failure = err;
      if (this.listenerCount('error') > 0) this.emit('error', err);
    }
    for (const w of this.waiters) w(null);
    this.waiters = [];
    this.emit('close');
  }
}
