import type { Channel } from './channel.js';
import { spritePath } from '@sprites/protocol';
import { ConnectionError } from './errors.js';
import type { SpriteContext, StreamKinds } from './platform.js';

/** One TCP connection to a host:port as seen from inside the sprite, over a WebSocket. */
export interface Tunnel {
  /** What the server dialled (`host:port`). */
  readonly target: string;
  send(data: Uint8Array): void;
  /** Bytes queued towards the sprite. */
  readonly bufferedAmount: number;
  onData(fn: (data: Uint8Array) => void): void;
  /** Called once: without an error for a clean end (close 1000/1001). */
  onClose(fn: (error?: Error) => void): void;
  close(): void;
}

/** `host:port`, `[v6]:port` or just a port (localhost). */
export function parseAddress(addr: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(addr) ?? /^()()(\d+)$/.exec(addr);
  const port = Number(m?.[3]);
  if (!m || !Number.isInteger(port) || port < 1 || port > 65535)
    throw new TypeError(`"${addr}" is not host:port (e.g. localhost:5432 or [::1]:6379)`);
  return { host: m[1] ?? (m[2] || 'localhost'), port };
}

/** Opens a tunnel (PROTOCOL §10); resolves once the sprite has connected to the target. */
export function openTunnel<K extends StreamKinds>(
  ctx: SpriteContext<K>,
  host: string,
  port: number,
  signal?: AbortSignal,
): Promise<Tunnel> {
  return new Promise((resolve, reject) => {
    // The target's first bytes (and even its close) can arrive in the same read as the
    // `connected` reply, before the caller has attached its handlers: keep them until then.
    const early: Uint8Array[] = [];
    let earlyClose: { error?: Error } | null = null;
    let dataFn: (d: Uint8Array) => void = (d) => void early.push(new Uint8Array(d));
    let closeFn: (e?: Error) => void = (e) => void (earlyClose = { error: e });
    let connected = false;
    const onAbort = () => channel.close(1000);
    const channel: Channel = ctx.platform.connect(
      ctx.transport.wsURL(spritePath('proxy', { name: ctx.name })),
      ctx.transport.bearerToken,
      {
        open: () => channel.send(JSON.stringify({ host: host.replace(/^\[(.*)\]$/, '$1'), port })),
        message: (data) => {
          if (connected) {
            if (typeof data !== 'string') dataFn(data);
            return;
          }
          if (typeof data !== 'string') return;
          let reply: { status?: string; target?: string; error?: string };
          try {
            reply = JSON.parse(data) as typeof reply;
          } catch {
            reply = {};
          }
          if (reply.status !== 'connected') {
            channel.close(1000);
            return reject(
              new ConnectionError(reply.error ?? `the proxy answered ${reply.status ?? 'something unexpected'}`),
            );
          }
          connected = true;
          resolve({
            target: reply.target ?? `${host}:${port}`,
            send: (d) => channel.send(d),
            get bufferedAmount() {
              return channel.bufferedAmount;
            },
            onData: (fn) => {
              dataFn = fn;
              for (const d of early.splice(0)) fn(d);
            },
            onClose: (fn) => {
              closeFn = fn;
              if (earlyClose) fn(earlyClose.error);
            },
            close: () => channel.close(1000),
          });
        },
        close: (code, reason, error) => {
          signal?.removeEventListener('abort', onAbort);
          if (!connected)
            return reject(
              error ??
                new ConnectionError(`the proxy closed before connecting (code ${code}${reason ? `: ${reason}` : ''})`),
            );
          closeFn(
            code === 1000 || code === 1001
              ? undefined
              : (error ?? new ConnectionError(`the tunnel closed with code ${code}${reason ? `: ${reason}` : ''}`)),
          );
        },
      },
    );
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
