import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { connect, createServer, type Server, type Socket } from 'node:net';

/** Answers one DNS message from `source` (a sprite's address); null drops it. */
export type DnsHandler = (query: Buffer, source: string, transport: 'udp' | 'tcp') => Promise<Buffer | null>;

export interface Upstream {
  host: string;
  port: number;
}

const UPSTREAM_TIMEOUT_MS = 4000;
const MAX_TCP_MESSAGE = 65535;

/**
 * The DNS server sprites under a policy are redirected to (UDP and TCP on one port of the
 * host, reached through an nftables redirect, so no other resolver can be used instead).
 */
export class DnsProxy {
  private udp: UdpSocket | null = null;
  private tcp: Server | null = null;
  private readonly conns = new Set<Socket>();

  constructor(private readonly handle: DnsHandler) {}

  /** Listens on UDP and TCP `port` (0 picks one free on both); returns the port. */
  async listen(port = 0, host = '0.0.0.0'): Promise<number> {
    for (let attempt = 0; attempt < 20; attempt++) {
      const udp = createSocket('udp4');
      const bound = await new Promise<number>((resolve, reject) => {
        udp.once('error', reject);
        udp.bind(port, host, () => resolve(udp.address().port));
      });
      const tcp = createServer((socket) => this.serveTcp(socket));
      const ok = await new Promise<boolean>((resolve) => {
        tcp.once('error', () => resolve(false));
        tcp.listen(bound, host, () => resolve(true));
      });
      if (!ok) {
        udp.close();
        if (port !== 0) throw new Error(`DNS proxy: TCP port ${port} is taken`);
        continue;
      }
      udp.on('message', (msg, rinfo) => {
        void this.handle(msg, rinfo.address, 'udp').then(
          (answer) => answer && udp.send(answer, rinfo.port, rinfo.address),
          () => undefined,
        );
      });
      udp.on('error', () => undefined);
      this.udp = udp;
      this.tcp = tcp;
      return bound;
    }
    throw new Error('DNS proxy: no port free for both UDP and TCP');
  }

  private serveTcp(socket: Socket): void {
    this.conns.add(socket);
    socket.once('close', () => this.conns.delete(socket));
    socket.on('error', () => undefined);
    socket.setTimeout(30_000, () => socket.destroy());
    let buffered = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      while (buffered.length >= 2) {
        const length = buffered.readUInt16BE(0);
        if (buffered.length < 2 + length) break;
        const msg = buffered.subarray(2, 2 + length);
        buffered = buffered.subarray(2 + length);
        void this.handle(Buffer.from(msg), socket.remoteAddress?.replace(/^::ffff:/, '') ?? '', 'tcp').then(
          (answer) => {
            if (!answer || socket.destroyed) return;
            const head = Buffer.alloc(2);
            head.writeUInt16BE(answer.length);
            socket.write(Buffer.concat([head, answer]));
          },
          () => socket.destroy(),
        );
      }
    });
  }

  close(): void {
    this.udp?.close();
    this.tcp?.close();
    for (const c of this.conns) c.destroy();
  }
}

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
    socket.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
}
