import type { Connect } from './channel.js';
import type { HttpTransport } from './http.js';

/** The stream types a runtime's flavour of the SDK hands out. */
export interface StreamKinds {
  readable: unknown;
  writable: unknown;
  /** What binary results (file contents, collected output) are: Buffer on Node. */
  bytes: Uint8Array;
  /** A TCP tunnel into the sprite as a socket (Node only). */
  socket: unknown;
  /** A local port forwarded into the sprite (Node only). */
  proxySession: unknown;
}

/** Browsers: WHATWG streams and Uint8Array. */
export interface WebStreamKinds extends StreamKinds {
  readable: ReadableStream<Uint8Array>;
  writable: WritableStream<Uint8Array>;
  bytes: Uint8Array;
  socket: never;
  proxySession: never;
}

/** The producing end of a readable stream the SDK feeds. */
export interface ReadableSource<R> {
  stream: R;
  /** False when the reader has fallen behind (its buffer is full): stop feeding until `onDrain`. */
  push(chunk: Uint8Array): boolean;
  /** Called when the reader wants more after `push` returned false. */
  onDrain(listener: () => void): void;
  end(): void;
  fail(err: Error): void;
}

/** Where a writable stream's data goes. */
export interface WritableSink {
  write(chunk: Uint8Array): Promise<void>;
  close(): Promise<void>;
}

/** What every per-sprite operation needs: the sprite's name, the HTTP transport, the runtime. */
export interface SpriteContext<K extends StreamKinds> {
  readonly name: string;
  readonly transport: HttpTransport;
  readonly platform: Platform<K>;
}

/** A local port forwarded to a port in the sprite. */
export interface PortMapping {
  localPort: number;
  remotePort: number;
  remoteHost?: string;
}

/** What differs between runtimes: streams, bytes and how a WebSocket is opened. */
export interface Platform<K extends StreamKinds> {
  readable(): ReadableSource<K['readable']>;
  writable(sink: WritableSink): K['writable'];
  bytes(data: Uint8Array): K['bytes'];
  /** Wraps a fetch body as this runtime's readable stream. */
  fromWeb(stream: ReadableStream<Uint8Array>): K['readable'];
  connect: Connect;
  /** TCP tunnels with local sockets and listeners; absent where there are none (browsers). */
  tunnels?: {
    socket(ctx: SpriteContext<K>, addr: string, signal?: AbortSignal): Promise<K['socket']>;
    ports(ctx: SpriteContext<K>, mappings: PortMapping[]): Promise<K['proxySession'][]>;
  };
}

/** Turns what a caller may pass as input into chunks. */
export type InputSource =
  | string
  | Uint8Array
  | ArrayBuffer
  | ReadableStream<Uint8Array>
  | AsyncIterable<Uint8Array | string>
  | Iterable<Uint8Array | string>;

export async function* chunksOf(input: InputSource): AsyncGenerator<Uint8Array, void, undefined> {
  const enc = new TextEncoder();
  if (typeof input === 'string') {
    yield enc.encode(input);
    return;
  }
  if (input instanceof Uint8Array) {
    yield input;
    return;
  }
  if (input instanceof ArrayBuffer) {
    yield new Uint8Array(input);
    return;
  }
  if (typeof ReadableStream !== 'undefined' && input instanceof ReadableStream) {
    const reader = input.getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return;
        yield value;
      }
    } finally {
      reader.releaseLock();
    }
  }
  for await (const chunk of input as AsyncIterable<Uint8Array | string>)
    yield typeof chunk === 'string' ? enc.encode(chunk) : chunk;
}

export function concatBytes(chunks: readonly Uint8Array[]): Uint8Array {
  let size = 0;
  for (const c of chunks) size += c.length;
  const out = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}
