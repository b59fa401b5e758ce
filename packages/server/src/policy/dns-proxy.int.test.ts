import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { connect, type Socket } from 'node:net';
import { test } from 'node:test';
import { DNS_BOUNDS } from './dns-bounds.js';
import { DnsProxy } from './dns-proxy.js';

/** A query for `a.test`; the fake upstream answers it with the QR bit set. */
function query(id: number): Buffer {
  const q = Buffer.from([0, 0, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1, 97, 4, 116, 101, 115, 116, 0, 0, 1, 0, 1]);
  q.writeUInt16BE(id, 0);
  return q;
}
const framed = (q: Buffer) => Buffer.concat([Buffer.from([q.length >> 8, q.length & 0xff]), q]);

/** Resolves with how the connection ended: 'closed' (by the proxy) or 'open' after `ms`. */
function fate(socket: Socket, ms: number): Promise<'closed' | 'open'> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve('open'), ms);
    socket.once('close', () => {
      clearTimeout(timer);
      resolve('closed');
    });
  });
}

function open(host: string, port: number, localAddress?: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect({ host, port, localAddress }, () => resolve(s));
    s.on('error', reject);
  });
}

function udpAsk(host: string, port: number, ms = 500): Promise<Buffer | null> {
  return new Promise((resolve) => {
    const u = createSocket('udp4');
    const done = (r: Buffer | null) => {
      clearTimeout(timer);
      u.close();
      resolve(r);
    };
    const timer = setTimeout(() => done(null), ms);
    u.on('message', (m) => done(m));
    u.on('error', () => done(null));
    u.connect(port, host, () => u.send(query(7)));
  });
}

test('the DNS proxy listens only on gateways, answers only their sprite, and bounds TCP per sprite and in time', async (t) => {
  const bounds = {
    ...DNS_BOUNDS,
    tcpPerSource: 3,
    tcpTotal: 5,
    tcpIdleMs: 400,
    tcpLifetimeMs: 1500,
    tcpQueriesPerConnection: 2,
  };
  const proxy = new DnsProxy(async (q) => {
    const a = Buffer.from(q);
    a.writeUInt16BE(0x8180, 2);
    return a;
  }, bounds);
  t.after(() => proxy.close());
  const port = await proxy.choosePort(0);
  // 127.0.0.1 plays a gateway whose sprite is 127.0.0.1; 127.0.0.2 one whose sprite is elsewhere.
  await proxy.addGateway('127.0.0.1', '127.0.0.1');
  await proxy.addGateway('127.0.0.2', '127.0.0.3');

  assert.equal((await udpAsk('127.0.0.1', port))?.readUInt16BE(2), 0x8180, 'the sprite of a gateway is answered');
  assert.equal(await udpAsk('127.0.0.2', port), null, 'anyone else at a gateway is not');
  assert.equal(await udpAsk('127.0.0.4', port), null, 'and nothing listens off the gateways');
  const stranger = await open('127.0.0.2', port);
  assert.equal(await fate(stranger, 1000), 'closed', 'a TCP connection from anyone but the sprite is closed at once');

  // Over the per-sprite cap, connections are closed as they come; the first ones stay.
  const conns = await Promise.all(Array.from({ length: 8 }, () => open('127.0.0.1', port)));
  t.after(() => conns.forEach((c) => c.destroy()));
  const fates = await Promise.all(conns.map((c) => fate(c, 200)));
  assert.equal(fates.filter((f) => f === 'open').length, 3, fates.join(' '));
  assert.ok(proxy.openSockets <= 4 + 3, `the proxy holds ${proxy.openSockets} sockets`);

  // The idle deadline closes a connection that says nothing; another may then open.
  const kept = conns.filter((_, i) => fates[i] === 'open');
  assert.deepEqual(
    await Promise.all(kept.map((c) => fate(c, 1000))),
    ['closed', 'closed', 'closed'],
    'idle connections are closed',
  );
  const busy = await open('127.0.0.1', port);
  const answers: Buffer[] = [];
  busy.on('data', (d: Buffer) => answers.push(d));
  busy.write(Buffer.concat([framed(query(1)), framed(query(2))]));
  busy.write(framed(query(3)));
  assert.equal(await fate(busy, 1000), 'closed', 'past its query count a connection is closed');
  assert.equal(
    Buffer.concat(answers).length,
    2 * framed(query(1)).length,
    'the queries within the count were answered',
  );

  // The lifetime closes even a connection that keeps asking (each query resets the idle deadline).
  const long = new DnsProxy(async (q) => q, { ...bounds, tcpQueriesPerConnection: 1000 });
  t.after(() => long.close());
  const longPort = await long.choosePort(0);
  await long.addGateway('127.0.0.1', '127.0.0.1');
  const chatty = await open('127.0.0.1', longPort);
  chatty.on('data', () => undefined);
  const talk = setInterval(() => chatty.write(framed(query(9))), 100);
  t.after(() => clearInterval(talk));
  const started = Date.now();
  assert.equal(await fate(chatty, 3000), 'closed');
  clearInterval(talk);
  assert.ok(Date.now() - started < 2500, 'closed by the lifetime deadline');

  proxy.removeGateway('127.0.0.1');
  assert.equal(await udpAsk('127.0.0.1', port), null, 'a removed gateway is not listened on');
});
