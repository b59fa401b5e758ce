import { tokenProtocols } from '@sprites/protocol';
import { ConnectionError, parseAPIError } from './errors.js';

/** What a WebSocket connection reports to its owner. */
export interface ChannelHandlers {
  open(): void;
  /** Text frames arrive as strings, binary frames as bytes. */
  message(data: string | Uint8Array): void;
  /** Called exactly once; `error` is set when the socket failed or never opened. */
  close(code: number, reason: string, error?: Error): void;
}

/** One open (or opening) WebSocket, whatever the runtime provides. */
export interface Channel {
  send(data: string | Uint8Array): void;
  /** Bytes queued but not yet written to the network. */
  readonly bufferedAmount: number;
  /** Tokens of the server's `X-Sprite-Capabilities` header, where the runtime shows it. */
  readonly capabilities: readonly string[];
  /** Starts the close handshake; the socket is torn down if it does not finish promptly. */
  close(code?: number, reason?: string): void;
  /**
   * Stops reading from the network until `resume` (backpressure: the server's sends then
   * block). A no-op where the runtime's WebSocket cannot pause (the WHATWG one).
   */
  pause(): void;
  resume(): void;
}

/** Opens a WebSocket to `url` authenticated with the bearer token. */
export type Connect = (url: string, token: string, handlers: ChannelHandlers) => Channel;

/**
 * The close report of one socket: `finish` calls `handlers.close` once (later calls are
 * ignored) and cancels the timer `drop` schedules for a peer that never answers a close.
 */
export function closeOnce(handlers: ChannelHandlers): {
  finish: (code: number, reason: string, error?: Error) => void;
  drop: (fn: () => void) => void;
  readonly closed: boolean;
} {
  let closed = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  return {
    finish(code, reason, error) {
      if (closed) return;
      closed = true;
      if (timer !== undefined) clearTimeout(timer);
      handlers.close(code, reason, error);
    },
    drop(fn) {
      timer = setTimeout(fn, CLOSE_GRACE_MS);
    },
    get closed() {
      return closed;
    },
  };
}

/** How long a close handshake may take before the socket is simply dropped. */
export const CLOSE_GRACE_MS = 1000;

/** The subset of the WHATWG WebSocket the SDK uses (browsers, Deno, Bun, Node ≥ 22). */
interface WebSocketLike {
  binaryType: string;
  readonly bufferedAmount: number;
  readonly readyState: number;
  send(data: string | ArrayBufferView | ArrayBuffer): void;
  close(code?: number, reason?: string): void;
  addEventListener(type: string, listener: (ev: { data?: unknown; code?: number; reason?: string }) => void): void;
}

type WebSocketConstructor = new (
  url: string,
  protocolsOrOptions?: string | string[] | { headers?: Record<string, string>; protocols?: string[] },
) => WebSocketLike;

/**
 * A connector over the runtime's global WebSocket. `auth: 'header'` sends the token as an
 * `Authorization` header (Bun, Deno and Node's undici accept a `headers` option);
 * `auth: 'protocol'` sends it as a WebSocket sub-protocol, the only way a browser can (our
 * server accepts it; the token never appears in a URL).
 */
export function globalWebSocketConnector(auth: 'header' | 'protocol'): Connect {
  return (url, token, handlers) => {
    const Ctor = (globalThis as unknown as { WebSocket?: WebSocketConstructor }).WebSocket;
    if (!Ctor) throw new Error('this runtime has no WebSocket; on Node 20 install the `ws` package');
    const ws =
      auth === 'header'
        ? new Ctor(url, { headers: { authorization: `Bearer ${token}` } })
        : new Ctor(url, tokenProtocols(token));
    ws.binaryType = 'arraybuffer';
    let opened = false;
    const report = closeOnce(handlers);
    const finish = report.finish;
    ws.addEventListener('open', () => {
      opened = true;
      handlers.open();
    });
    ws.addEventListener('message', (ev) => {
      const data = ev.data;
      if (typeof data === 'string') handlers.message(data);
      else if (data instanceof ArrayBuffer) handlers.message(new Uint8Array(data));
      else if (ArrayBuffer.isView(data))
        handlers.message(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    });
    ws.addEventListener('error', () => {
      if (!opened)
        finish(
          1006,
          '',
          new ConnectionError(`could not open a WebSocket to ${redact(url)} (the server refused it or is unreachable)`),
        );
    });
    ws.addEventListener('close', (ev) => finish(ev.code ?? 1006, ev.reason ?? ''));
    return {
      send: (data) => ws.send(data),
      get bufferedAmount() {
        return ws.bufferedAmount;
      },
      capabilities: ['signal'],
      // The WHATWG WebSocket has no way to stop reading; WebSocketStream would.
      pause: () => undefined,
      resume: () => undefined,
      close: (code = 1000, reason = '') => {
        if (report.closed) return;
        try {
          ws.close(code, reason);
        } catch {
          ws.close();
        }
        // Some runtimes wait for the peer's close frame indefinitely; report closed anyway.
        report.drop(() => finish(code, reason));
      },
    };
  };
}

/** Builds the error of a refused WebSocket handshake from its HTTP answer. */
export function handshakeError(url: string, status: number, body: string, headers: Record<string, string>): Error {
  if (body.trim() !== '')
    return parseAPIError(status, body, headers) ?? new ConnectionError(`WebSocket handshake failed (HTTP ${status})`);
  return new ConnectionError(`WebSocket handshake to ${redact(url)} failed (HTTP ${status})`);
}

/** The URL without its query (which can hold environment values). */
export function redact(url: string): string {
  return url.split('?')[0] ?? url;
}
