import { globalWebSocketConnector } from '../channel.js';
import type { Platform, WebStreamKinds } from '../platform.js';

/**
 * Browsers (and any runtime without `node:stream`): WHATWG streams and Uint8Arrays. The
 * token travels as a WebSocket sub-protocol, since a browser cannot set headers on one.
 */
export const browserPlatform: Platform<WebStreamKinds> = {
  readable() {
    let controller!: ReadableStreamDefaultController<Uint8Array>;
    let ended = false;
    const stream = new ReadableStream<Uint8Array>({
      start(c) {
        controller = c;
      },
    });
    return {
      stream,
      push: (chunk) => {
        if (!ended) controller.enqueue(chunk);
      },
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
