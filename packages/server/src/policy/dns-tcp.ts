import type { Socket } from 'node:net';
import type { DnsBounds } from './dns-bounds.js';

/** Answers one query; null sends nothing back for it. */
export type TcpAnswer = (query: Buffer) => Promise<Buffer | null>;

/** The smallest DNS message (a header); a shorter length prefix is not DNS. */
const DNS_HEADER = 12;

/**
 * Serves DNS over one TCP connection (RFC 7766 framing: a 2-byte length, then the message)
 * within `bounds`: at most tcpInFlightPerConnection queries at once (reading pauses, so the
 * kernel's window pushes back), at most tcpQueriesPerConnection in all, closed after
 * tcpIdleMs without a complete query or tcpLifetimeMs in all, and closed when a peer lets
 * more than tcpBufferBytes pile up either way. Everything a sprite sends is hostile
 * (DESIGN §5.5).
 */
export function serveDnsTcp(socket: Socket, bounds: DnsBounds, answer: TcpAnswer): void {
  socket.on('error', () => undefined);
  let buffered: Buffer = Buffer.alloc(0);
  let inFlight = 0;
  let taken = 0;
  let finishing = false;
  let idle = setTimeout(() => socket.destroy(), bounds.tcpIdleMs);
  const lifetime = setTimeout(() => socket.destroy(), bounds.tcpLifetimeMs);
  socket.once('close', () => {
    clearTimeout(idle);
    clearTimeout(lifetime);
  });

  const pump = (): void => {
    while (!socket.destroyed && inFlight < bounds.tcpInFlightPerConnection && buffered.length >= 2) {
      const length = buffered.readUInt16BE(0);
      if (length < DNS_HEADER) {
        socket.destroy();
        return;
      }
      if (buffered.length < 2 + length) break;
      if (taken >= bounds.tcpQueriesPerConnection) {
        // The connection has had its share: answer what is in flight, then close.
        finishing = true;
        buffered = Buffer.alloc(0);
        socket.pause();
        if (inFlight === 0) socket.end();
        return;
      }
      const query = Buffer.from(buffered.subarray(2, 2 + length));
      buffered = buffered.subarray(2 + length);
      taken++;
      clearTimeout(idle);
      idle = setTimeout(() => socket.destroy(), bounds.tcpIdleMs);
      inFlight++;
      answer(query).then(
        (reply) => {
          inFlight--;
          if (socket.destroyed) return;
          if (reply) {
            const head = Buffer.alloc(2);
            head.writeUInt16BE(reply.length);
            socket.write(Buffer.concat([head, reply]));
            // A peer that does not read its answers would make us hold them all.
            if (socket.writableLength > bounds.tcpBufferBytes) {
              socket.destroy();
              return;
            }
          }
          if (finishing) {
            if (inFlight === 0) socket.end();
          } else pump();
        },
        () => socket.destroy(),
      );
    }
    // A whole query waiting for a free slot: stop reading until one is free.
    const waiting = buffered.length >= 2 && buffered.length >= 2 + buffered.readUInt16BE(0);
    if (waiting) socket.pause();
    else socket.resume();
  };

  socket.on('data', (chunk: Buffer) => {
    if (finishing) return;
    buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
    if (buffered.length > bounds.tcpBufferBytes) {
      socket.destroy();
      return;
    }
    pump();
  });
}
