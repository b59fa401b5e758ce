import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { Duplex } from 'node:stream';
import type { PortMapping, SpriteContext, StreamKinds } from '../platform.js';
import { openTunnel, parseAddress, type Tunnel } from '../tunnel.js';

const HIGH_WATER = 4 * 1024 * 1024;

/** A tunnel as a Node Duplex: what you write reaches the target, what it sends you read. */
export class TunnelSocket extends Duplex {
  readonly target: string;
  private readonly tunnel: Tunnel;

  constructor(tunnel: Tunnel) {
    super({ allowHalfOpen: false });
    this.tunnel = tunnel;
    this.target = tunnel.target;
    tunnel.onData((d) => {
      if (!this.push(Buffer.from(d.buffer, d.byteOffset, d.byteLength))) {
        // Node buffers what is pushed anyway; the socket's own flow keeps memory bounded.
      }
    });
    tunnel.onClose((err) => {
      if (err) this.destroy(err);
      else this.push(null);
    });
  }

  override _read(): void {}

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.tunnel.send(chunk);
    if (this.tunnel.bufferedAmount <= HIGH_WATER) return callback();
    const wait = setInterval(() => {
      if (this.tunnel.bufferedAmount <= HIGH_WATER / 2 || this.destroyed) {
        clearInterval(wait);
        callback();
      }
    }, 2);
  }

  override _final(callback: (error?: Error | null) => void): void {
    // The protocol has no half-close: ending our side ends the tunnel.
    this.tunnel.close();
    callback();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.tunnel.close();
    callback(error);
  }
}

/** A connection to `addr` (host:port) inside the sprite, as a Duplex (Go's `ProxySocket`). */
export async function proxySocket<K extends StreamKinds>(
  ctx: SpriteContext<K>,
  addr: string,
  signal?: AbortSignal,
): Promise<TunnelSocket> {
  const { host, port } = parseAddress(addr);
  return new TunnelSocket(await openTunnel(ctx, host, port, signal));
}

/**
 * A local listener (127.0.0.1) whose every connection is tunnelled to a port in the sprite.
 * `localPort: 0` picks a free port (see `localAddr()`).
 */
export class ProxySession {
  readonly remotePort: number;
  readonly remoteHost: string;
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  private readonly closed: Promise<void>;

  constructor(ctx: SpriteContext<StreamKinds>, mapping: PortMapping) {
    this.remotePort = mapping.remotePort;
    this.remoteHost = mapping.remoteHost ?? 'localhost';
    this.server = createServer((local) => {
      this.sockets.add(local);
      local.once('close', () => this.sockets.delete(local));
      local.on('error', () => undefined);
      local.pause();
      openTunnel(ctx, this.remoteHost, this.remotePort).then(
        (tunnel) => {
          const remote = new TunnelSocket(tunnel);
          remote.on('error', () => local.destroy());
          local.on('close', () => remote.destroy());
          // The sprite side ending ends ours after what it sent is written (pipe ends it).
          local.pipe(remote);
          remote.pipe(local);
          local.resume();
        },
        () => local.destroy(),
      );
    });
    this.closed = new Promise((resolve) => this.server.once('close', resolve));
    this.listenPort = mapping.localPort;
  }

  private readonly listenPort: number;

  /** @internal */
  listen(): Promise<this> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.listenPort, '127.0.0.1', () => resolve(this));
    });
  }

  get localPort(): number {
    return (this.server.address() as AddressInfo | null)?.port ?? this.listenPort;
  }

  localAddr(): string {
    return `127.0.0.1:${this.localPort}`;
  }

  /** Stops listening and ends every tunnel. */
  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    this.server.close();
    await this.closed;
  }

  /** Resolves when the session is closed. */
  wait(): Promise<void> {
    return this.closed;
  }
}

export async function proxyPorts<K extends StreamKinds>(
  ctx: SpriteContext<K>,
  mappings: PortMapping[],
): Promise<ProxySession[]> {
  const sessions: ProxySession[] = [];
  try {
    for (const m of mappings) sessions.push(await new ProxySession(ctx, m).listen());
    return sessions;
  } catch (e) {
    await Promise.all(sessions.map((s) => s.close()));
    throw e;
  }
}
