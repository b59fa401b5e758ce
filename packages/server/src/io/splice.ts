import type { Duplex } from 'node:stream';

/** How long a side whose peer is gone has to flush what it was sent before it is cut. */
export const SPLICE_CLOSE_GRACE_MS = 2000;

/**
 * Joins two connections byte for byte with backpressure both ways (a WebSocket between a
 * client and an agent or app). A side that ends is ended on the other, after what is
 * buffered (a closing frame) is flushed. A side that is gone entirely ends the other too and
 * cuts it after a short grace: a peer that still sends into a closed splice would otherwise
 * keep its connection, and a descriptor of ours, open for ever.
 */
export function splice(a: Duplex, b: Duplex): void {
  const cutLater = (side: Duplex) => {
    if (side.destroyed) return;
    side.end();
    setTimeout(() => side.destroy(), SPLICE_CLOSE_GRACE_MS).unref();
  };
  a.on('error', () => b.destroy());
  b.on('error', () => a.destroy());
  a.once('close', () => cutLater(b));
  b.once('close', () => cutLater(a));
  a.pipe(b);
  b.pipe(a);
}
