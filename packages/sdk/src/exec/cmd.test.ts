import assert from 'node:assert/strict';
import { test } from 'node:test';
import { APIError, ExitError } from '../errors.js';
import { handshakeError } from '../channel.js';
import { fakeClient, type FakeConnection } from '../testing/fake.js';

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

/** The server side of a plain non-TTY command: session info, output frames, exit. */
function runs(stdout: string[], stderr: string[], exitCode: number) {
  return (conn: FakeConnection) => {
    conn.open();
    conn.text({ type: 'session_info', session_id: '7', command: 'x', created: 1, tty: false, is_owner: true });
    for (const s of stdout) conn.binary(1, s);
    for (const s of stderr) conn.binary(2, s);
    conn.binary(3, exitCode);
  };
}

test('a command: argv and options in the exec URL, stdout and stderr frames apart, the exit code', async () => {
  const { client, connections } = fakeClient(runs(['hello ', 'world'], ['warn'], 0));
  const cmd = client.sprite('my box').command('ls', ['-l', 'a b'], { env: { A: '1' }, cwd: '/tmp' });
  const out = await cmd.output();
  assert.equal(out.toString('utf8'), 'hello world');
  assert.equal(cmd.exitCode(), 0);
  assert.equal(cmd.sessionId, '7');
  const [conn] = connections;
  assert.equal(conn?.url.protocol, 'ws:');
  assert.equal(conn?.url.pathname, '/v1/sprites/my%20box/exec');
  assert.deepEqual(conn?.url.searchParams.getAll('cmd'), ['ls', '-l', 'a b']);
  assert.deepEqual(conn?.url.searchParams.getAll('env'), ['A=1']);
  assert.equal(conn?.url.searchParams.get('dir'), '/tmp');
  assert.equal(conn?.url.searchParams.get('stdin'), 'false');
  assert.equal(conn?.token, 'tok');
  // The exit ends the connection from our side.
  assert.equal(conn?.closedWith, 1000);
});

test('a non-zero exit rejects with ExitError carrying the code, stderr and stdout', async () => {
  const { client } = fakeClient(runs(['partial'], ['boom\n'], 3));
  const err = await client
    .sprite('box')
    .command('false')
    .output()
    .then(
      () => assert.fail('resolved'),
      (e: unknown) => e,
    );
  assert.ok(err instanceof ExitError);
  assert.equal(err.code, 3);
  assert.equal(text(err.stderr), 'boom\n');
  assert.equal(text(err.output), 'partial');
});

test('combined output keeps the order the frames arrived in', async () => {
  const { client } = fakeClient((conn) => {
    conn.open();
    conn.binary(1, 'a');
    conn.binary(2, 'b');
    conn.binary(1, 'c');
    conn.binary(3, 0);
  });
  assert.equal((await client.sprite('box').command('x').combinedOutput()).toString(), 'abc');
});

test('a connection that ends before an exit code rejects instead of inventing one', async () => {
  const { client } = fakeClient((conn) => {
    conn.open();
    conn.binary(1, 'half');
    conn.end(1011, 'agent went away');
  });
  await assert.rejects(client.sprite('box').command('x').output(), /before the command reported an exit code/);
});

test('stdin: frames with stream id 0, EOF as id 4, writes wait while the socket is backed up', async () => {
  let server!: FakeConnection;
  const { client } = fakeClient((conn) => {
    server = conn;
    conn.open();
  });
  const cmd = client.sprite('box').command('cat');
  const stdin = cmd.stdin;
  await cmd.start();
  assert.equal(server.url.searchParams.get('stdin'), 'true');

  await new Promise<void>((resolve, reject) => stdin.write(Buffer.from('ab'), (e) => (e ? reject(e) : resolve())));
  assert.deepEqual(server.frames(), [[0, 97, 98]]);

  // Backpressure: more than the high-water mark queued, so the write does not complete...
  server.channel.bufferedAmount = 8 * 1024 * 1024;
  let written = false;
  stdin.write(Buffer.from('c'), () => (written = true));
  await new Promise((r) => setTimeout(r, 40));
  assert.equal(written, false, 'the write completed while the socket was backed up');
  // ...until the socket drains.
  server.channel.bufferedAmount = 0;
  await new Promise((r) => setTimeout(r, 40));
  assert.equal(written, true);

  await new Promise<void>((resolve) => stdin.end(resolve));
  assert.deepEqual(server.frames(), [[0, 97, 98], [0, 99], [4]]);
  server.binary(3, 0);
  assert.equal(await cmd.wait(), 0);
});

test('stdin given as input is sent and closed by itself', async () => {
  let server!: FakeConnection;
  const { client } = fakeClient((conn) => {
    server = conn;
    conn.open();
    // Answer once the client has sent its EOF (or after a while, so a missing EOF fails the test).
    const since = Date.now();
    const timer = setInterval(() => {
      if (!conn.frames().some((f) => f[0] === 4) && Date.now() - since < 1000) return;
      clearInterval(timer);
      conn.binary(1, 'done');
      conn.binary(3, 0);
    }, 2);
  });
  const out = await client.sprite('box').command('cat', [], { stdin: 'hi' }).output();
  assert.equal(out.toString(), 'done');
  assert.deepEqual(server.frames(), [[0, 104, 105], [4]]);
});

test('signals and resizes travel as JSON control messages', async () => {
  let server!: FakeConnection;
  const { client } = fakeClient((conn) => {
    server = conn;
    conn.open();
  });
  const cmd = client.sprite('box').command('top', [], { tty: true });
  await cmd.start();
  assert.equal(server.url.searchParams.get('tty'), 'true');
  cmd.resize(100, 40);
  cmd.kill('SIGINT');
  assert.deepEqual(server.json(), [
    { type: 'resize', cols: 100, rows: 40 },
    { type: 'signal', signal: 'SIGINT' },
  ]);
  server.text({ type: 'exit', exit_code: 130 });
  assert.equal(await cmd.wait(), 130);
});

test('attaching to a session: its id in the path, its TTY mode from session_info, raw output', async () => {
  const { client, connections } = fakeClient((conn) => {
    conn.open();
    conn.text({ type: 'session_info', session_id: 's/1', command: 'bash', created: 1, tty: true, is_owner: false });
    // A TTY session's binary frames are the terminal's bytes, with no stream id.
    conn.binary('\x01prompt$ ');
    conn.text({ type: 'port_opened', port: 8080, address: '0.0.0.0', pid: 9 });
    conn.text({ type: 'exit', exit_code: 0 });
  });
  const cmd = client.sprite('box').attachSession('s/1');
  const ports: unknown[] = [];
  cmd.on('port', (p) => ports.push(p));
  const chunks: Buffer[] = [];
  cmd.stdout.on('data', (c: Buffer) => chunks.push(c));
  const ended = new Promise((resolve) => cmd.stdout.once('end', resolve));
  assert.equal(await cmd.wait(), 0);
  await ended;
  assert.equal(Buffer.concat(chunks).toString(), '\x01prompt$ ');
  assert.equal(cmd.isTTY, true);
  assert.equal(cmd.sessionId, 's/1');
  assert.deepEqual(ports, [{ type: 'port_opened', port: 8080, address: '0.0.0.0', pid: 9 }]);
  const url = connections[0]!.url;
  assert.equal(url.pathname, '/v1/sprites/box/exec/s%2F1');
  assert.equal(url.searchParams.getAll('cmd').length, 0);
});

test('a refused handshake becomes the APIError of its JSON body', async () => {
  const { client } = fakeClient((conn) =>
    conn.end(
      1006,
      '',
      handshakeError(
        conn.url.toString(),
        503,
        JSON.stringify({ error: 'sprite_not_ready', message: 'waking up', retry_after_seconds: 2 }),
        { 'retry-after': '2' },
      ),
    ),
  );
  const err = await client
    .sprite('box')
    .command('ls')
    .output()
    .then(
      () => assert.fail('resolved'),
      (e: unknown) => e,
    );
  assert.ok(err instanceof APIError);
  assert.equal(err.statusCode, 503);
  assert.equal(err.errorCode, 'sprite_not_ready');
  assert.equal(err.retryAfterSeconds, 2);
});

test('an abort kills the remote command and rejects at once', async () => {
  let server!: FakeConnection;
  const { client } = fakeClient((conn) => {
    server = conn;
    conn.open();
  });
  const controller = new AbortController();
  const cmd = client.sprite('box').command('sleep', ['100'], { signal: controller.signal });
  await cmd.start();
  controller.abort();
  await assert.rejects(cmd.wait(), { name: 'AbortError' });
  assert.deepEqual(server.json(), [{ type: 'signal', signal: 'KILL' }]);
});
