import { createSocket } from 'node:dgram';
import { connect } from 'node:net';

export interface Upstream {
  host: string;
  port: number;
}

const UPSTREAM_TIMEOUT_MS = 4000;
const MAX_TCP_MESSAGE = 65535;

/** Sends a query to the upstream resolver over UDP (or TCP) and returns its answer. */
export function askUpstream(upstream: Upstream, query: Buffer, transport: 'udp' | 'tcp'): Promise<Buffer> {
  return transport === 'tcp' ? askTcp(upstream, query) : askUdp(upstream, query);
}

function askUdp(upstream: Upstream, query: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const socket = createSocket(upstream.host.includes(':') ? 'udp6' : 'udp4');
    const timer = setTimeout(() => {
      socket.close();
      reject(new Error('upstream DNS did not answer'));
    }, UPSTREAM_TIMEOUT_MS);
    socket.once('message', (msg) => {
      clearTimeout(timer);
      socket.close();
      resolve(msg);
    });
    socket.once('error', (e) => {
      clearTimeout(timer);
      socket.close();
      reject(e);
    });
    socket.send(query, upstream.port, upstream.host);
  });
}

function askTcp(upstream: Upstream, query: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const socket = connect(upstream.port, upstream.host);
    const timer = setTimeout(() => socket.destroy(new Error('upstream DNS did not answer')), UPSTREAM_TIMEOUT_MS);
    let buffered = Buffer.alloc(0);
    socket.once('connect', () => {
      const head = Buffer.alloc(2);
      head.writeUInt16BE(query.length);
      socket.write(Buffer.concat([head, query]));
    });
    socket.on('data', (c: Buffer) => {
      buffered = Buffer.concat([buffered, c]);
      if (buffered.length >= 2 && buffered.length >= 2 + buffered.readUInt16BE(0)) {
        clearTimeout(timer);
        socket.destroy();
        resolve(buffered.subarray(2, 2 + buffered.readUInt16BE(0)));
      } else if (buffered.length > MAX_TCP_MESSAGE + 2) socket.destroy(new Error('oversized DNS answer'));
    });
    socket.once('close', () => {
      clearTimeout(timer);
      reject(new Error('upstream DNS closed the connection without an answer'));
    });
    socket.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
}
