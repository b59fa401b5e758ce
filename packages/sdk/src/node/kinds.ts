import type { Readable, Writable } from 'node:stream';
import type { StreamKinds } from '../platform.js';
import type { ProxySession, TunnelSocket } from './proxy.js';

/**
 * Node, Bun and Deno: `node:stream` Readable/Writable and Buffer. The portable core names
 * this type only as the default of its generic parameters (a type, never a runtime import).
 */
export interface NodeStreamKinds extends StreamKinds {
  readable: Readable;
  writable: Writable;
  bytes: Buffer;
  socket: TunnelSocket;
  proxySession: ProxySession;
}
