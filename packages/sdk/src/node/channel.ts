import WebSocket from 'ws';
import { closeOnce, handshakeError, type Connect } from '../channel.js';
import { ConnectionError } from '../errors.js';

/**
 * A connector on the `ws` package (Node, including Node 20 which has no global WebSocket).
 * It shows the handshake's response headers (capabilities) and turns a refused handshake's
 * JSON body into an APIError.
 */
export const wsConnector: Connect = (url, token, handlers) => {
  const ws = new WebSocket(url, {
    headers: { authorization: `Bearer ${token}` },
    perMessageDeflate: false,
    followRedirects: false,
  });
  let capabilities: string[] = [];
  const report = closeOnce(handlers);
  const finish = report.finish;
  ws.on('upgrade', (res) => {
    const header = res.headers['x-sprite-capabilities'];
    const text = Array.isArray(header) ? header.join(',') : (header ?? '');
    capabilities = text
      .split(',')
      .map((t) => t.trim())
      .filter(Boolean);
  });
  ws.on('unexpected-response', (_req, res) => {
    const chunks: Buffer[] = [];
    let size = 0;
    res.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= 64 * 1024) chunks.push(c);
    });
    res.on('error', () => undefined);
    res.on('end', () => {
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(res.headers)) if (typeof v === 'string') headers[k] = v;
      finish(1006, '', handshakeError(url, res.statusCode ?? 0, Buffer.concat(chunks).toString('utf8'), headers));
      ws.terminate();
    });
  });
  ws.on('open', () => handlers.open());
  ws.on('message', (data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean) => {
    const buf = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);
    handlers.message(isBinary ? new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength) : buf.toString('utf8'));
  });
  ws.on('error', (err: Error) => {
    finish(1006, '', new ConnectionError(`WebSocket to ${url.split('?')[0]} failed: ${err.message}`, { cause: err }));
    ws.terminate();
  });
  ws.on('close', (code: number, reason: Buffer) => finish(code, reason.toString('utf8')));
  return {
    send: (data) => ws.send(data),
    get bufferedAmount() {
      return ws.bufferedAmount;
    },
    get capabilities() {
      return capabilities;
    },
    pause: () => {
      if (ws.readyState === WebSocket.OPEN) ws.pause();
    },
    resume: () => {
      if (ws.readyState === WebSocket.OPEN) ws.resume();
    },
    close: (code = 1000, reason = '') => {
      if (report.closed) return;
      if (ws.readyState === WebSocket.CONNECTING) {
        ws.terminate();
        return;
      }
      ws.close(code, reason);
      // Do not wait for a peer that never answers the close frame (ws waits 30 s).
      report.drop(() => ws.terminate());
    },
  };
};
