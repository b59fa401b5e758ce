import { globalWebSocketConnector } from '../channel.js';
import type { Platform, WebStreamKinds } from '../platform.js';

/** Bytes a command's output stream holds before the command is paused for its reader. */
const STREAM_HIGH_WATER = 1024 * 1024;

/**
 * Browsers (and any runtime without `node:stream`): WHATWG streams and Uint8Arrays. The
 * token travels as a WebSocket sub-protocol, since a browser cannot set headers on one.
 */
export const browserPlatform: Platform<WebStreamKinds> = {
  readable() {
    let controller!: ReadableStreamDefaultController<Uint8Array>;
    let ended = false;
    const drained: (() => void)[] = [];
    const stream = new ReadableStream<Uint8Array>(
      {
        start(c) {
          controller = c;
        },
        pull() {
          drained.forEach((l) => l());
        },
      },
      { highWaterMark: STREAM_HIGH_WATER, size: (chunk) => chunk.byteLength },
    );
    return {
      stream,
      push: (chunk) => {
        if (ended) return true;
        controller.enqueue(chunk);
        return (controller.desiredSize ?? 1) > 0;
      },
      onDrain: (l) => void drained.push(l),
      end: () => {
        if (ended) return;
        ended = true;
        controller.close();
      },
      fail: (err) => {
        if (ended) return;
        ended = true;
        controller.error(err);
      },
    };
  },
  writable(sink) {
    return new WritableStream<Uint8Array>({
      write: (chunk) => sink.write(chunk),
      close: () => sink.close(),
    });
  },
  bytes: (data) => data,
  fromWeb: (stream) => stream,
  connect: globalWebSocketConnector('protocol'),
};
