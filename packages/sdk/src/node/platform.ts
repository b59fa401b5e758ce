import { Readable, Writable } from 'node:stream';
import type { ReadableStream as NodeWebReadableStream } from 'node:stream/web';
import { globalWebSocketConnector, type Connect } from '../channel.js';
import type { Platform } from '../platform.js';
import type { NodeStreamKinds } from './kinds.js';
import { wsConnector } from './channel.js';
import { proxyPorts, proxySocket } from './proxy.js';

function toBuffer(data: Uint8Array): Buffer {
  return Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}

/**
 * Bun and Deno have a WebSocket that takes headers; Node uses the `ws` package (Node 20 has
 * no WebSocket, and it shows the handshake's headers and error bodies).
 */
function pickConnector(): Connect {
  const g = globalThis as { Bun?: unknown; Deno?: unknown };
  if (g.Bun !== undefined || g.Deno !== undefined) return globalWebSocketConnector('header');
  return wsConnector;
}

/** Bytes a command's output stream holds before the command is paused for its reader. */
const STREAM_HIGH_WATER = 1024 * 1024;

/** Node, Bun and Deno: `node:stream` streams and Buffers. */
export const nodePlatform: Platform<NodeStreamKinds> = {
  readable() {
    const drained: (() => void)[] = [];
    // read() is Node asking for more: the reader has caught up.
    const stream = new Readable({ highWaterMark: STREAM_HIGH_WATER, read: () => drained.forEach((l) => l()) });
    let ended = false;
    return {
      stream,
      push: (chunk) => (ended ? true : stream.push(toBuffer(chunk))),
      onDrain: (l) => void drained.push(l),
      end: () => {
        if (ended) return;
        ended = true;
        stream.push(null);
      },
      fail: (err) => {
        if (ended) return;
        ended = true;
        stream.destroy(err);
      },
    };
  },
  writable(sink) {
    return new Writable({
      write(chunk: Buffer, _encoding, callback) {
        sink.write(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength)).then(() => callback(), callback);
      },
      final(callback) {
        sink.close().then(() => callback(), callback);
      },
    });
  },
  bytes: toBuffer,
  // The package is built with the DOM lib, whose ReadableStream is not node:stream/web's; the
  // tests' program (no DOM) sees one type, hence the lint finding there.
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-assertion -- needed in the DOM build
  fromWeb: (stream) => Readable.fromWeb(stream as unknown as NodeWebReadableStream<Uint8Array>),
  connect: pickConnector(),
  tunnels: { socket: proxySocket, ports: proxyPorts },
};
