import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createServer, type Server, type Socket } from 'node:net';
import { DNS_BOUNDS, KeyedCounter, type DnsBounds } from './dns-bounds.js';
import { serveDnsTcp } from './dns-tcp.js';
import { errorResponse, RCODE_SERVFAIL } from './dns-wire.js';

export { askUpstream, type Upstream } from './dns-upstream.js';

/** Answers one DNS message from `source` (a sprite's address); null drops it. */
export type DnsHandler = (query: Buffer, source: string, transport: 'udp' | 'tcp') => Promise<Buffer | null>;

interface Gateway {
  /** The one address allowed to ask here: the sprite at the other end of this gateway's veth. */
  peer: string;
  udp: UdpSocket;
  tcp: Server;
}

function plain(address: string | undefined): string {
  return (address ?? '').replace(/^::ffff:/, '');
}

/**
 * The DNS server of every sprite (ADR 0016): nftables redirects a sprite's port 53 to this
 * port on its own gateway address (the host end of its veth), where the proxy listens on
 * UDP and TCP, for that sprite only. It listens nowhere else, so the host's other addresses
 * have no resolver on them, and what reaches a gateway from anyone but its sprite goes
 * unanswered. Connections and queries are bounded per sprite and in total (DnsBounds), so
 * one sprite cannot take the daemon's descriptors or other sprites' DNS.
 */
export class DnsProxy {
  private port = 0;
  private readonly gateways = new Map<string, Gateway>();
  private readonly conns = new Set<Socket>();
  private readonly tcpConns: KeyedCounter;
  private readonly queries: KeyedCounter;
  private closed = false;

  constructor(
    private readonly handle: DnsHandler,
    private readonly bounds: DnsBounds = DNS_BOUNDS,
  ) {
    this.tcpConns = new KeyedCounter(bounds.tcpPerSource, bounds.tcpTotal);
    this.queries = new KeyedCounter(bounds.queriesPerSource, bounds.queriesTotal);
  }

  /**
   * Chooses the port (`port`, or with 0 one free for UDP and TCP on 127.0.0.1, which a
   * wildcard listener would also hold) that every gateway will listen on; returns it.
   */
  async choosePort(port = 0): Promise<number> {
    if (port !== 0) return (this.port = port);
    for (let attempt = 0; attempt < 20; attempt++) {
      const udp = createSocket('udp4');
      const candidate = await new Promise<number>((resolve, reject) => {
        udp.once('error', reject);
        udp.bind(0, '127.0.0.1', () => resolve(udp.address().port));
      });
      const tcp = createServer();
      const free = await new Promise<boolean>((resolve) => {
        tcp.once('error', () => resolve(false));
        tcp.listen(candidate, '127.0.0.1', () => resolve(true));
      });
      udp.close();
      if (free) {
        await new Promise<void>((resolve) => tcp.close(() => resolve()));
        return (this.port = candidate);
      }
    }
    throw new Error('DNS proxy: no port free for both UDP and TCP');
  }

  /** Sockets the proxy holds (listeners and connections), for the bounds' accounting. */
  get openSockets(): number {
    return this.gateways.size * 2 + this.conns.size;
  }

  /**
   * Listens on `address` (a gateway) for queries from `peer` (its sprite). Idempotent;
   * throws when the port is taken there.
   */
  async addGateway(address: string, peer: string): Promise<void> {
    if (this.closed) throw new Error('DNS proxy is closed');
    if (this.port === 0) throw new Error('DNS proxy: choosePort() first');
    if (this.gateways.has(address)) return;
    const udp = createSocket('udp4');
    await new Promise<void>((resolve, reject) => {
      udp.once('error', reject);
      udp.bind(this.port, address, () => resolve());
    }).catch((e: unknown) => {
      udp.close();
      throw new Error(`DNS proxy: listen on UDP ${address}:${this.port}`, { cause: e });
    });
    const tcp = createServer((socket) => this.accept(socket, peer));
    await new Promise<void>((resolve, reject) => {
      tcp.once('error', reject);
      tcp.listen(this.port, address, 64, () => resolve());
    }).catch((e: unknown) => {
      udp.close();
      throw new Error(`DNS proxy: listen on TCP ${address}:${this.port}`, { cause: e });
    });
    udp.on('error', () => undefined);
    tcp.on('error', () => undefined);
    udp.on('message', (msg, rinfo) => {
      if (rinfo.address !== peer) return;
      // Over its share, a query is dropped: the sprite's resolver asks again later.
      if (!this.queries.tryAcquire(peer)) return;
      void this.handle(msg, peer, 'udp')
        .then(
          (answer) => {
            if (answer && this.gateways.get(address)?.udp === udp) udp.send(answer, rinfo.port, rinfo.address);
          },
          () => undefined,
        )
        .finally(() => this.queries.release(peer));
    });
    if (this.closed) {
      udp.close();
      tcp.close();
      return;
    }
    this.gateways.set(address, { peer, udp, tcp });
  }

  /** Stops listening on a gateway (its slot is going). Connections end with the sprite's veth. */
  removeGateway(address: string): void {
    const g = this.gateways.get(address);
    if (!g) return;
    this.gateways.delete(address);
    g.udp.close();
    g.tcp.close();
  }

  private accept(socket: Socket, peer: string): void {
    const source = plain(socket.remoteAddress);
    // Refused at once: only the gateway's own sprite, and only within its share.
    if (source !== peer || !this.tcpConns.tryAcquire(source)) {
      socket.destroy();
      return;
    }
    this.conns.add(socket);
    socket.once('close', () => {
      this.conns.delete(socket);
      this.tcpConns.release(source);
    });
    serveDnsTcp(socket, this.bounds, async (query) => {
      if (!this.queries.tryAcquire(source)) return errorResponse(query, RCODE_SERVFAIL);
      try {
        return await this.handle(query, source, 'tcp');
      } finally {
        this.queries.release(source);
      }
    });
  }

  close(): void {
    this.closed = true;
    for (const address of [...this.gateways.keys()]) this.removeGateway(address);
    for (const c of this.conns) c.destroy();
  }
}
