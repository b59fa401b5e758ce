import { Readable, Writable } from 'node:stream';
import type { ReadableStream as NodeWebReadableStream } from 'node:stream/web';
import { globalWebSocketConnector, type Connect } from '../channel.js';
import type { NodeStreamKinds, Platform } from '../platform.js';
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

/** Node, Bun and Deno: `node:stream` streams and Buffers. */
export const nodePlatform: Platform<NodeStreamKinds> = {
  readable() {
    const stream = new Readable({ read() {} });
    let ended = false;
    return {
      stream,
      push: (chunk) => {
        if (!ended) stream.push(toBuffer(chunk));
      },
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
  fromWeb: (stream) => Readable.fromWeb(stream as unknown as NodeWebReadableStream<Uint8Array>),
  connect: pickConnector(),
  tunnels: { socket: proxySocket, ports: proxyPorts },
};
