import assert from 'node:assert/strict';
import { createServer, connect, type Socket } from 'node:net';
import { test } from 'node:test';
import { splice, SPLICE_CLOSE_GRACE_MS } from './splice.js';

/** A connected pair of loopback sockets: [the end we hold, the end the server accepted]. */
async function pair(): Promise<[Socket, Socket]> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  const accepted = new Promise<Socket>((r) => server.once('connection', r));
  const client = connect(port, '127.0.0.1');
  const other = await accepted;
  server.close();
  return [client, other];
}

test('bytes flow both ways, in order', async () => {
  const [client, inA] = await pair();
  const [outB, app] = await pair();
  splice(inA, outB);
  const got = new Promise<string>((r) => app.once('data', (d) => r(d.toString())));
  client.write('hello');
  assert.equal(await got, 'hello');
  const back = new Promise<string>((r) => client.once('data', (d) => r(d.toString())));
  app.write('world');
  assert.equal(await back, 'world');
  for (const s of [client, inA, outB, app]) s.destroy();
});

test('a peer that is gone ends the other side, which is cut if it keeps sending', async () => {
  const [client, inA] = await pair();
  const [outB, app] = await pair();
  splice(inA, outB);
  client.on('error', () => undefined);
  // The client keeps sending; the app goes away.
  const chunk = Buffer.alloc(64 * 1024);
  const pump = setInterval(() => client.writable && client.write(chunk), 1);
  app.destroy();
  const started = Date.now();
  await new Promise<void>((r) => inA.once('close', () => r()));
  clearInterval(pump);
  assert.ok(Date.now() - started < SPLICE_CLOSE_GRACE_MS + 2000, 'the client side was closed within the grace');
  client.destroy();
});
