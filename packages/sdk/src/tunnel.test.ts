import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConnectionError } from './errors.js';
import { fakeClient, type FakeConnection } from './testing/fake.js';
import { openTunnel, parseAddress } from './tunnel.js';

test('a tunnel: asks for host:port, resolves on connected, carries bytes both ways, ends cleanly', async () => {
  let server!: FakeConnection;
  const { client } = fakeClient((conn) => {
    server = conn;
    conn.open();
    conn.text({ status: 'connected', target: '[::1]:5432' });
    // Bytes right after the reply arrive before the caller attached its handler: kept.
    conn.binary('early');
  });
  const tunnel = await openTunnel(client.sprite('box'), '[::1]', 5432);
  assert.equal(server.url.pathname, '/v1/sprites/box/proxy');
  assert.deepEqual(server.json(), [{ host: '::1', port: 5432 }]);
  assert.equal(tunnel.target, '[::1]:5432');
  const received: string[] = [];
  tunnel.onData((d) => received.push(new TextDecoder().decode(d)));
  const closed = new Promise<Error | undefined>((resolve) => tunnel.onClose(resolve));
  tunnel.send(new TextEncoder().encode('ping'));
  assert.deepEqual(server.frames(), [[112, 105, 110, 103]]);
  server.binary('pong');
  server.end(1000);
  assert.equal(await closed, undefined);
  assert.deepEqual(received, ['early', 'pong']);
});

test('a tunnel the sprite cannot connect is a ConnectionError with its reason', async () => {
  const { client } = fakeClient((conn) => {
    conn.open();
    conn.text({ status: 'error', error: 'dial tcp 127.0.0.1:9: connection refused' });
  });
  const err = await openTunnel(client.sprite('box'), 'localhost', 9).then(
    () => assert.fail('resolved'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof ConnectionError);
  assert.match(err.message, /connection refused/);
});

test('a tunnel that breaks reports an error; one closed by us does not', async () => {
  let server!: FakeConnection;
  const { client } = fakeClient((conn) => {
    server = conn;
    conn.open();
    conn.text({ status: 'connected' });
  });
  const broken = await openTunnel(client.sprite('box'), 'localhost', 80);
  const error = new Promise<Error | undefined>((resolve) => broken.onClose(resolve));
  server.end(1011, 'agent crashed');
  assert.match((await error)?.message ?? '', /code 1011: agent crashed/);

  const mine = await openTunnel(client.sprite('box'), 'localhost', 80);
  const clean = new Promise<Error | undefined>((resolve) => mine.onClose(resolve));
  mine.close();
  assert.equal(server.closedWith, 1000);
  assert.equal(await clean, undefined);
});

test('addresses: host:port or [v6]:port', () => {
  assert.deepEqual(parseAddress('db:5432'), { host: 'db', port: 5432 });
  assert.deepEqual(parseAddress('[::1]:6379'), { host: '::1', port: 6379 });
  for (const bad of ['db', 'db:0', 'db:65536', ':x']) assert.throws(() => parseAddress(bad), TypeError, bad);
});
