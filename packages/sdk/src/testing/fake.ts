import type { Channel, ChannelHandlers, Connect } from '../channel.js';
import { SpritesClient } from '../client.js';
import type { NodeStreamKinds } from '../node/kinds.js';
import { nodePlatform } from '../node/platform.js';

/** One WebSocket the SDK opened against the fake server: what it sent, and the server's side of it. */
export class FakeConnection {
  readonly url: URL;
  readonly token: string;
  /** Everything the client sent, in order: text as strings, binary frames as bytes. */
  readonly sent: (string | Uint8Array)[] = [];
  /** The client's side: what the SDK holds. Set `channel.bufferedAmount` to play a backed-up socket. */
  readonly channel: Channel & { bufferedAmount: number };
  paused = false;
  /** The code the client closed with, once it did. */
  closedWith: number | null = null;
  private readonly handlers: ChannelHandlers;
  private ended = false;

  constructor(url: string, token: string, handlers: ChannelHandlers) {
    this.url = new URL(url);
    this.token = token;
    this.handlers = handlers;
    this.channel = {
      send: (data) => void this.sent.push(typeof data === 'string' ? data : new Uint8Array(data)),
      bufferedAmount: 0,
      capabilities: ['signal'],
      close: (code = 1000, reason = '') => {
        if (this.closedWith !== null) return;
        this.closedWith = code;
        queueMicrotask(() => this.end(code, reason));
      },
      pause: () => void (this.paused = true),
      resume: () => void (this.paused = false),
    };
  }

  open(): void {
    this.handlers.open();
  }

  text(message: unknown): void {
    this.handlers.message(typeof message === 'string' ? message : JSON.stringify(message));
  }

  binary(...parts: (number | string | Uint8Array)[]): void {
    const bytes: number[] = [];
    for (const p of parts) {
      if (typeof p === 'number') bytes.push(p);
      else bytes.push(...(typeof p === 'string' ? new TextEncoder().encode(p) : p));
    }
    this.handlers.message(new Uint8Array(bytes));
  }

  /** The server ends the connection (once; later ends are ignored, as a socket reports one close). */
  end(code: number, reason = '', error?: Error): void {
    if (this.ended) return;
    this.ended = true;
    this.handlers.close(code, reason, error);
  }

  /** Text messages the client sent, parsed. */
  json(): unknown[] {
    return this.sent.filter((m): m is string => typeof m === 'string').map((m) => JSON.parse(m) as unknown);
  }

  /** Binary frames the client sent, as arrays of numbers (easy to compare). */
  frames(): number[][] {
    return this.sent.filter((m): m is Uint8Array => typeof m !== 'string').map((m) => [...m]);
  }
}

/**
 * A client whose WebSockets go to `onConnect` instead of a server: each test plays the
 * server's side of the protocol by hand. HTTP goes to `globalThis.fetch` (see `withFetch`).
 */
export function fakeClient(onConnect: (conn: FakeConnection) => void): {
  client: SpritesClient<NodeStreamKinds>;
  connections: FakeConnection[];
} {
  const connections: FakeConnection[] = [];
  const connect: Connect = (url, token, handlers) => {
    const conn = new FakeConnection(url, token, handlers);
    connections.push(conn);
    queueMicrotask(() => onConnect(conn));
    return conn.channel;
  };
  const client = new SpritesClient<NodeStreamKinds>(
    'tok',
    { baseURL: 'http://sprites.test', timeout: 2000 },
    { ...nodePlatform, connect },
  );
  return { client, connections };
}

/** One HTTP request the SDK made. */
export interface SeenRequest {
  method: string;
  url: URL;
  headers: Headers;
  body: string;
}

/** Runs `fn` with `fetch` answered by `answer`; returns what was asked. Restores `fetch` after. */
export async function withFetch<T>(
  answer: (request: SeenRequest) => Response | Promise<Response>,
  fn: () => Promise<T>,
): Promise<{ result: T; requests: SeenRequest[] }> {
  const original = globalThis.fetch;
  const requests: SeenRequest[] = [];
  globalThis.fetch = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const body = typeof init?.body === 'string' ? init.body : '';
    const seen: SeenRequest = {
      method: init?.method ?? 'GET',
      url: new URL(input instanceof Request ? input.url : input),
      headers: new Headers(init?.headers),
      body,
    };
    requests.push(seen);
    return answer(seen);
  };
  try {
    return { result: await fn(), requests };
  } finally {
    globalThis.fetch = original;
  }
}

/** A JSON response. */
export function jsonResponse(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } });
}
