import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdirSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { test } from 'node:test';
import {
  AbortError,
  APIError,
  ConnectionError,
  ExecError,
  ExitError,
  FilesystemError,
  SpritesClient,
  type Sprite,
} from '@sprites/sdk';
import { startTestDaemon } from '../helpers/daemon.js';
import { freePort, pollUntil } from '../helpers/ws.js';

function text(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('utf8');
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** The FilesystemError code a call fails with ('ok' if it succeeds). */
async function codeOf(p: Promise<unknown>): Promise<string> {
  return p.then(
    () => 'ok',
    (e: unknown) => (e instanceof FilesystemError ? e.code : String(e)),
  );
}

function tcpSockets(): number {
  return process.getActiveResourcesInfo().filter((r) => r === 'TCPSocketWrap' || r === 'TCPWRAP').length;
}

function openFds(): number {
  return readdirSync('/proc/self/fd').length;
}

test('the TypeScript SDK against a real daemon: every method, its failure paths, and none of the official SDK defects', async (t) => {
  const port = await freePort();
  const d = await startTestDaemon(t, { listen: `127.0.0.1:${port}` });
  const client = new SpritesClient(d.adminToken, { baseURL: d.url });
  const sprite = await client.createSprite('sdk', {
    config: { ramMB: 512, storageGB: 2 },
    labels: ['sdk', 'test'],
    environment: { FROM_SDK: 'yes' },
  });

  // Started first, checked last: a command quiet for two minutes still completes (the
  // official SDK's 45 s read deadline killed it).
  // (On a sprite of its own: the restore test below restarts `sdk`.)
  const quietSprite = await client.createSprite('quiet', { ramMB: 256, storageGB: 1 });
  const quiet = quietSprite.command('sh', ['-c', 'sleep 120; echo done']).output();
  quiet.catch(() => undefined);

  await t.test('client and sprite lifecycle', async () => {
    assert.match(sprite.id, /^[0-9a-f-]{36}$/);
    assert.equal(sprite.name, 'sdk');
    assert.equal(sprite.status, 'running');
    assert.equal(sprite.config?.ramMB, 512);
    assert.deepEqual(sprite.labels, ['sdk', 'test']);
    assert.deepEqual(sprite.environment, { FROM_SDK: 'yes' });
    assert.ok(sprite.createdAt instanceof Date && sprite.createdAt.getTime() > Date.now() - 600_000);
    assert.equal(typeof sprite.url, 'string');
    assert.equal(sprite.organization?.name, sprite.organizationName);
    assert.equal(sprite.client, client);

    const handle = client.sprite('no-such-sprite');
    assert.equal(handle.status, '', 'a handle makes no request');
    const missing = await client.getSprite('no-such-sprite').catch((e: unknown) => e);
    assert.ok(missing instanceof APIError && missing.isNotFound(), String(missing));
    assert.equal(((await handle.refresh().catch((e: unknown) => e)) as APIError).statusCode, 404);

    const fetched = await client.getSprite('sdk');
    assert.equal(fetched.id, sprite.id);
    assert.ok(fetched.lastRunningAt instanceof Date);

    const other = await client.createSprite('sdk-other', { ramMB: 256, storageGB: 1 });
    assert.equal(other.config?.ramMB, 256, 'a bare config is accepted as the official SDK allows');
    const page = await client.listSprites({ prefix: 'sdk', maxResults: 1 });
    assert.equal(page.sprites.length, 1);
    assert.equal(page.hasMore, true);
    assert.ok(page.nextContinuationToken);
    assert.equal(typeof page.running, 'number');
    const next = await client.listSprites({
      prefix: 'sdk',
      maxResults: 1,
      continuationToken: page.nextContinuationToken,
    });
    assert.notEqual(next.sprites[0]?.name, page.sprites[0]?.name);
    assert.deepEqual((await client.listAllSprites('sdk')).map((s) => s.name).sort(), ['sdk', 'sdk-other']);
    assert.equal((await client.listAllSprites()).length, 3);

    const updated = await client.updateSprite('sdk-other', { labels: ['a', 'b'] });
    assert.deepEqual(updated.labels, ['a', 'b']);
    await other.update({ clearLabels: true });
    assert.deepEqual(other.labels, []);
    await client.updateURLSettings('sdk-other', { auth: 'public' });
    assert.equal((await other.refresh()).urlSettings?.auth, 'public');
    await assert.rejects(client.updateSprite('sdk-other', {}), TypeError);

    const dup = await client.createSprite('sdk-other').catch((e: unknown) => e);
    assert.ok(dup instanceof APIError && dup.statusCode === 400 && dup.errorCode === 'name_taken', String(dup));
    const bad = await client.createSprite('Not A Name!').catch((e: unknown) => e);
    assert.ok(bad instanceof APIError && bad.statusCode === 400, String(bad));
    const wrongToken = await new SpritesClient('not-a-token', { baseURL: d.url })
      .listSprites()
      .catch((e: unknown) => e);
    assert.ok(wrongToken instanceof APIError && wrongToken.statusCode === 401);
    assert.throws(() => new SpritesClient('', { baseURL: d.url }), TypeError);

    await other.upgrade();
    assert.equal((await other.exec('echo up')).stdout, 'up\n', 'an upgraded sprite runs commands');
    await other.destroy();
    assert.equal(((await client.getSprite('sdk-other').catch((e: unknown) => e)) as APIError).statusCode, 404);
    const unreachable = await new SpritesClient('x', { baseURL: 'http://127.0.0.1:1' })
      .listSprites()
      .catch((e: unknown) => e);
    assert.ok(unreachable instanceof ConnectionError, String(unreachable));
  });

  await t.test('commands: Go-shaped Cmd (run, output, combinedOutput, pipes, tty, signals, exit codes)', async () => {
    assert.equal(text(await sprite.command('echo', ['hello', 'world']).output()), 'hello world\n');
    assert.equal(text(await sprite.command('sh', ['-c', 'echo out; echo err >&2']).combinedOutput()), 'out\nerr\n');
    for (const code of [1, 42, 255]) {
      const e = await sprite
        .command('sh', ['-c', `echo partial; echo why >&2; exit ${code}`])
        .output()
        .catch((err: unknown) => err);
      assert.ok(e instanceof ExitError, String(e));
      assert.equal(e.exitCode(), code);
      assert.equal(text(e.stderr), 'why\n');
      assert.equal(text(e.output), 'partial\n');
    }
    const missing = await sprite
      .command('no-such-program')
      .run()
      .catch((e: unknown) => e);
    assert.equal((missing as ExitError).code, 127);

    const env = await sprite
      .command('sh', ['-c', 'echo "$A $B"; pwd'], { env: { A: '1', B: 'two' }, cwd: '/tmp' })
      .output();
    assert.equal(text(env), '1 two\n/tmp\n');
    assert.equal(
      text(await sprite.command('sh', ['-c', 'echo $A'], { env: ['A=go-style'], dir: '/' }).output()),
      'go-style\n',
    );

    // stdin from every kind of source.
    assert.equal(text(await sprite.command('cat', [], { stdin: 'a string' }).output()), 'a string');
    assert.equal(text(await sprite.command('cat', [], { stdin: new Uint8Array([104, 105]) }).output()), 'hi');
    const web = new ReadableStream<Uint8Array>({
      start(c) {
        c.enqueue(new TextEncoder().encode('web '));
        c.enqueue(new TextEncoder().encode('stream'));
        c.close();
      },
    });
    assert.equal(text(await sprite.command('cat', [], { stdin: web }).output()), 'web stream');

    async function* gen() {
      for (let i = 0; i < 3; i++) yield `line ${i}\n`;
    }
    assert.equal(text(await sprite.command('cat', [], { stdin: gen() }).output()), 'line 0\nline 1\nline 2\n');
    const piped = sprite.command('wc', ['-c']);
    const stdin = piped.stdinPipe();
    const out = piped.stdoutPipe();
    await piped.start();
    stdin.write(Buffer.alloc(1 << 20, 1));
    stdin.end();
    assert.equal((await readAll(out)).toString().trim(), String(1 << 20));
    assert.equal(await piped.wait(), 0);

    // 32 MB of output streams through intact.
    const big = sprite.command('sh', [
      '-c',
      'head -c 33554432 /dev/urandom > /tmp/big; sha256sum /tmp/big >&2; cat /tmp/big',
    ]);
    const bigErr = readAll(big.stderr);
    const hash = createHash('sha256');
    big.stdout.on('data', (c: Buffer) => hash.update(c));
    await big.run();
    assert.equal((await bigErr).toString().split(' ')[0], hash.digest('hex'));

    const tty = sprite.command('sh', ['-c', 'tty; stty size; exit 3'], { tty: true, rows: 33, cols: 101 });
    const ttyErr = await tty.combinedOutput().catch((e: unknown) => e);
    assert.ok(ttyErr instanceof ExitError && ttyErr.code === 3, 'a TTY command reports its real exit code');
    assert.match(text(ttyErr.output), /\/dev\/pts\/\d+\r\n33 101\r\n/);
    assert.equal(tty.exitCode(), 3);

    const resized = sprite.command('sh', ['-c', 'read x; stty size'], { tty: true, rows: 10, cols: 20 });
    const resizedOut = readAll(resized.stdout);
    await resized.start();
    resized.setTTYSize(40, 120);
    resized.resize(121, 41);
    await new Promise((r) => setTimeout(r, 200));
    resized.stdin.write('go\r');
    assert.equal(await resized.wait(), 0);
    assert.match((await resizedOut).toString(), /41 121/);

    const sleeper = sprite.command('sleep', ['30']);
    await sleeper.start();
    assert.equal(sleeper.exitCode(), -1);
    sleeper.signal('TERM');
    assert.equal(await sleeper.wait(), 143);
    assert.equal(sleeper.toString(), 'sleep 30');
    await assert.rejects(sleeper.start(), /already started/);
  });

  await t.test("commands: the official JS SDK's shapes (spawn, exec, execFile)", async () => {
    const child = sprite.spawn('cat');
    let echoed = '';
    child.stdout.on('data', (c: Buffer) => (echoed += c.toString()));
    const spawned = new Promise<void>((r) => child.once('spawn', r));
    child.stdin.write('written before the socket opened, ');
    await spawned;
    child.stdin.end('and after');
    const exited = new Promise<number>((r) => child.once('exit', r));
    assert.equal(await child.wait(), 0);
    assert.equal(await exited, 0);
    assert.equal(echoed, 'written before the socket opened, and after');

    const shell = await sprite.exec('echo "a  b" | tr a-z A-Z && echo $FROM_SDK');
    assert.deepEqual(
      shell,
      { stdout: 'A  B\nyes\n', stderr: '', exitCode: 0 },
      'exec runs a shell line with quotes and pipes',
    );
    const failed = await sprite.execFile('sh', ['-c', 'echo o; echo e >&2; exit 5']).catch((e: unknown) => e);
    assert.ok(failed instanceof ExecError);
    assert.deepEqual(failed.result, { stdout: 'o\n', stderr: 'e\n', exitCode: 5 });
    const buf = await sprite.execFile('printf', ['\\001\\002'], { encoding: 'buffer' });
    assert.ok(Buffer.isBuffer(buf.stdout));
    assert.deepEqual([...buf.stdout], [1, 2]);
    const overHttp = await sprite
      .execFileHTTP('sh', ['-c', 'cat; echo b >&2; exit 4'], { input: 'a\n' })
      .catch((e: unknown) => e);
    assert.ok(overHttp instanceof ExecError);
    assert.deepEqual(
      overHttp.result,
      { stdout: 'a\n', stderr: 'b\n', exitCode: 4 },
      'execFileHTTP: stdin, both streams and the exit code',
    );
    const httpHash = createHash('sha256');
    const bigHttp = await sprite.execFileHTTP(
      'sh',
      ['-c', 'head -c 16777216 /dev/urandom > /tmp/h; sha256sum /tmp/h >&2; cat /tmp/h'],
      { encoding: 'buffer', maxBuffer: 1 << 25 },
    );
    httpHash.update(bigHttp.stdout);
    assert.equal(
      Buffer.from(bigHttp.stderr).toString().split(' ')[0],
      httpHash.digest('hex'),
      '16 MB over HTTP arrive intact, however the network splits them',
    );
    const overflow = await sprite
      .execFile('sh', ['-c', 'yes | head -c 100000; sleep 30'], { maxBuffer: 1000 })
      .catch((e: unknown) => e);
    assert.ok(overflow instanceof ExecError && /maxBuffer/.test(overflow.message), String(overflow));
  });

  await t.test('a command that reads stdin with no input finishes', async () => {
    const started = Date.now();
    assert.deepEqual(await sprite.execFile('cat'), { stdout: '', stderr: '', exitCode: 0 });
    assert.equal(text(await sprite.command('sh', ['-c', 'read x || echo eof']).output()), 'eof\n');
    assert.ok(Date.now() - started < 10_000);
  });

  await t.test('port messages arrive in non-TTY mode', async () => {
    const script = 'import socket,time; s=socket.socket(); s.bind(("0.0.0.0",8124)); s.listen(); time.sleep(3)';
    const cmd = sprite.command('python3', ['-c', script]);
    const ports: number[] = [];
    const messages: string[] = [];
    cmd.on('port', (p) => ports.push(p.port));
    cmd.on('message', (m) => messages.push(typeof m === 'string' ? m : m.type));
    await cmd.run();
    assert.ok(ports.includes(8124), `port events: ${JSON.stringify(ports)}`);
    assert.ok(messages.includes('session_info') && messages.includes('port_opened'), JSON.stringify(messages));
  });

  await t.test('a TTY command reports its real exit code', async () => {
    const viaSpawn = sprite.spawn('sh', ['-c', 'exit 42'], { tty: true });
    assert.equal(await viaSpawn.wait(), 42);
    const e = await sprite
      .command('sh', ['-c', 'kill -KILL $$'], { tty: true })
      .run()
      .catch((err: unknown) => err);
    assert.equal((e as ExitError).code, 137);
  });

  await t.test('1,000 sequential commands leave no sockets or handles behind', async () => {
    await sprite.exec('true');
    await new Promise((r) => setTimeout(r, 200));
    const sockets = tcpSockets();
    const fds = openFds();
    for (let i = 0; i < 1000; i++) {
      const r = await sprite.execFile('true');
      assert.equal(r.exitCode, 0);
    }
    const settled = await pollUntil(
      () => (tcpSockets() <= sockets + 1 && openFds() <= fds + 2 ? true : null),
      5000,
      'sockets to close',
    ).catch(() => false);
    assert.ok(settled, `TCP sockets ${sockets} → ${tcpSockets()}, fds ${fds} → ${openFds()}`);
  });

  await t.test('sessions: create, list, attach with scrollback, kill', async () => {
    const session = sprite.createSession('sh', ['-c', 'echo ready; exec sleep 300']);
    await new Promise<void>((r) => session.stdout.on('data', (c: Buffer) => c.toString().includes('ready') && r()));
    const id = session.sessionId!;
    assert.ok(id);
    const listed = (await sprite.listSessions()).find((s) => s.id === id);
    assert.ok(listed, 'the session is listed');
    assert.equal(listed.tty, true);
    assert.match(listed.command, /sh/);
    assert.ok(listed.created instanceof Date);
    assert.equal(typeof listed.isActive, 'boolean');
    session.disconnect();
    assert.ok(
      (await session.wait().catch((e: unknown) => e)) instanceof ConnectionError,
      'a detached command does not report an exit',
    );
    const attached = sprite.attachSession(id);
    let replay = '';
    attached.stdout.on('data', (c: Buffer) => (replay += c.toString()));
    await pollUntil(() => (replay.includes('ready') ? true : null), 10_000, 'scrollback');
    assert.equal(attached.isTTY, true, 'the attach took the session mode');
    const events = await (await sprite.killSession(id, 'SIGTERM')).toArray();
    assert.deepEqual(
      events.map((e) => e.type).filter((ty) => ty !== 'timeout'),
      ['signal', 'exited', 'complete'],
    );
    assert.equal(await attached.wait(), 143, 'the attached client sees the session end');
    const again = await (await sprite.killSession(id)).toArray();
    assert.deepEqual(
      again.map((e) => e.type),
      ['exited'],
      'a session that ended is reported, not an error',
    );
    const unknown = await sprite.killSession('999999').catch((e: unknown) => e);
    assert.ok(unknown instanceof APIError && unknown.statusCode === 404);
  });

  await t.test('filesystem: fs/promises shape, streaming, Node error codes, watch', async () => {
    const fs = sprite.filesystem('/home/sprite');
    await fs.writeFile('proj/a.txt', 'alpha', { mode: 0o640 });
    assert.equal(await fs.readFile('proj/a.txt', 'utf8'), 'alpha');
    const bytes = await fs.readFile('proj/a.txt');
    assert.ok(Buffer.isBuffer(bytes));
    assert.equal(await fs.readFile('proj/a.txt', { encoding: 'utf8', start: 1, end: 3 }), 'lph');
    const st = await fs.stat('proj/a.txt');
    assert.equal(st.size, 5);
    assert.equal(st.mode & 0o777, 0o640);
    assert.ok(st.isFile() && !st.isDirectory());
    assert.ok((await fs.stat('proj')).isDirectory(), 'a directory stats as itself');
    await sprite.exec('ln -sf a.txt /home/sprite/proj/link');
    assert.ok((await fs.lstat('proj/link')).isSymbolicLink());
    assert.ok((await fs.stat('proj/link')).isFile(), 'stat follows the link');

    await fs.mkdir('proj/deep/er', { recursive: true });
    assert.equal(await codeOf(fs.mkdir('proj/deep')), 'EEXIST');
    assert.equal(await codeOf(fs.mkdir('proj/x/y')), 'ENOENT');
    await fs.writeJSON('proj/deep/data.json', { n: 1 });
    assert.deepEqual(await fs.readJSON('proj/deep/data.json'), { n: 1 });
    await fs.appendFile('proj/a.txt', '+beta');
    assert.equal(await fs.readFile('proj/a.txt', 'utf8'), 'alpha+beta');
    assert.deepEqual(await fs.readdir('proj'), ['a.txt', 'deep', 'link']);
    const typed = await fs.readdir('proj', { withFileTypes: true });
    assert.deepEqual(
      typed.map((e) => `${e.name}:${e.isDirectory() ? 'd' : e.isSymbolicLink() ? 'l' : 'f'}`),
      ['a.txt:f', 'deep:d', 'link:l'],
    );
    assert.deepEqual(await fs.readdir('proj', { recursive: true }), [
      'a.txt',
      'deep',
      'deep/data.json',
      'deep/er',
      'link',
    ]);
    assert.deepEqual(await fs.readdir('proj', { recursive: true, pattern: '*.json' }), ['deep/data.json']);
    assert.equal(await codeOf(fs.readdir('proj/a.txt')), 'ENOTDIR');

    await fs.rename('proj/a.txt', 'proj/b.txt');
    await fs.copyFile('proj/deep', 'proj/deep-copy', { recursive: true });
    assert.deepEqual(await fs.readJSON('proj/deep-copy/data.json'), { n: 1 });
    await fs.chmod('proj/b.txt', 0o600);
    assert.equal((await fs.stat('proj/b.txt')).mode & 0o777, 0o600);
    await fs.chown('proj/b.txt', { uid: 0, gid: 0, asRoot: true });
    assert.equal((await sprite.exec('stat -c %u:%g /home/sprite/proj/b.txt')).stdout, '0:0\n');
    assert.equal(await fs.exists('proj/b.txt'), true);
    assert.equal(await fs.exists('proj/nope'), false);

    const errors: string[] = [];
    for (const op of [
      () => fs.readFile('proj/nope'),
      () => fs.rm('proj'),
      () => fs.writeFile('/etc/not-yours', 'x'),
      () => fs.readFile('proj'),
    ]) {
      errors.push(
        await op().then(
          () => 'ok',
          (e: unknown) => (e instanceof FilesystemError ? e.code : String(e)),
        ),
      );
    }
    assert.deepEqual(errors, ['ENOENT', 'ENOTEMPTY', 'EACCES', 'EISDIR']);
    await fs.rm('proj/nope', { force: true });

    // 64 MB written from a generator and read back as a stream, never whole in memory.
    const chunk = Buffer.alloc(1 << 20);
    const sent = createHash('sha256');

    async function* source() {
      for (let i = 0; i < 64; i++) {
        chunk.fill(i);
        sent.update(chunk);
        yield chunk;
      }
    }
    await fs.writeFile('big.bin', source());
    const got = createHash('sha256');
    for await (const c of await fs.createReadStream('big.bin')) got.update(c as Buffer);
    assert.equal(got.digest('hex'), sent.digest('hex'));

    const watcher = await fs.watch('proj', { recursive: true });
    const seen: string[] = [];
    const collected = (async () => {
      for await (const e of watcher) {
        if (e.type === 'event') seen.push(`${e.event}:${e.path}`);
        if (seen.some((s) => s.startsWith('remove:'))) break;
      }
    })();
    await fs.writeFile('proj/deep/w.txt', 'w');
    await fs.rm('proj/deep/w.txt');
    await Promise.race([collected, new Promise((r) => setTimeout(r, 5000))]);
    watcher.close();
    assert.ok(seen.includes('remove:/home/sprite/proj/deep/w.txt'), JSON.stringify(seen));
    assert.equal(watcher.isClosed(), true);
    await fs.rm('proj', { recursive: true });
    assert.equal(await fs.exists('proj'), false);
  });

  await t.test('checkpoints: create with comment, list, get, restore, delete; streams', async () => {
    const fs = sprite.filesystem('/home/sprite');
    await fs.writeFile('state.txt', 'before');
    const stream = await sprite.createCheckpoint('sdk checkpoint');
    const lines: string[] = [];
    for await (const m of stream) lines.push(m.type);
    assert.equal(lines.at(-1), 'complete');
    const [newest] = await sprite.listCheckpoints();
    assert.ok(newest);
    assert.equal(newest.comment, 'sdk checkpoint');
    assert.ok(newest.createTime instanceof Date);
    assert.equal((await sprite.getCheckpoint(newest.id)).id, newest.id);
    await fs.writeFile('state.txt', 'after');
    const restore = await sprite.restoreCheckpoint(newest.id);
    const first = await restore.next();
    assert.equal(first?.type, 'info');
    const done = await restore.done();
    assert.match(done.data ?? '', new RegExp(newest.id));
    assert.equal(await fs.readFile('state.txt', 'utf8'), 'before');
    const withAuto = await sprite.listCheckpoints({ includeAuto: true });
    assert.ok(
      withAuto.some((c) => c.isAuto),
      'the restore took an auto checkpoint',
    );
    assert.deepEqual(
      (await sprite.listCheckpoints(newest.id)).map((c) => c.id),
      [newest.id],
    );
    // A new checkpoint becomes the one the disk descends from: that one cannot be deleted,
    // an older one can.
    const second = await (await sprite.createCheckpoint()).done();
    const secondId = /Checkpoint (\S+) created/.exec(second.data ?? '')?.[1] ?? '';
    const current = await sprite.deleteCheckpoint(secondId).catch((e: unknown) => e);
    assert.ok(current instanceof APIError && current.statusCode === 409, String(current));
    await sprite.deleteCheckpoint(newest.id);
    assert.equal(((await sprite.getCheckpoint(newest.id).catch((e: unknown) => e)) as APIError).statusCode, 404);
    const unknownRestore = await sprite.restoreCheckpoint('v999').catch((e: unknown) => e);
    assert.ok(unknownRestore instanceof APIError && unknownRestore.statusCode === 404);
  });

  await t.test('aborts and timeouts: commands are killed, requests and reads cancelled', async () => {
    const controller = new AbortController();
    const cmd = sprite.command('sh', ['-c', 'echo $$ > /tmp/aborted.pid; exec sleep 300'], {
      signal: controller.signal,
    });
    await cmd.start();
    await new Promise((r) => setTimeout(r, 300));
    const started = Date.now();
    controller.abort();
    const e = await cmd.wait().catch((err: unknown) => err);
    assert.ok(e instanceof Error && e.name === 'AbortError', `wait() rejects with the signal's reason: ${String(e)}`);
    assert.ok(Date.now() - started < 1000, 'wait() rejects at once');
    const gone = await pollUntil(
      async () =>
        (await sprite.exec('kill -0 $(cat /tmp/aborted.pid) 2>/dev/null && echo alive || echo gone')).stdout ===
        'gone\n'
          ? true
          : null,
      5000,
      'the aborted process to die',
    ).catch(() => false);
    assert.ok(gone, 'the remote process was killed');

    const timedOut = await sprite
      .command('sleep', ['300'], { timeout: 300 })
      .run()
      .catch((err: unknown) => err);
    assert.ok(timedOut instanceof AbortError && /timed out after 300 ms/.test(timedOut.message), String(timedOut));
    const preAborted = await client.getSprite('sdk', { signal: AbortSignal.abort() }).catch((err: unknown) => err);
    assert.ok(preAborted instanceof Error && preAborted.name === 'AbortError', String(preAborted));

    await sprite.exec('head -c 200000000 /dev/zero > /home/sprite/huge.bin');
    const reading = new AbortController();
    const read = sprite.filesystem('/home/sprite').readFile('huge.bin', { signal: reading.signal });
    setTimeout(() => reading.abort(), 30);
    const readErr = await read.then(
      () => 'finished',
      (err: unknown) => err,
    );
    assert.ok(readErr instanceof Error && readErr.name === 'AbortError', String(readErr));
    await sprite.exec('rm /home/sprite/huge.bin');
  });

  await t.test('the two-minute quiet command completed', async () => {
    assert.equal(text(await quiet), 'done\n');
  });
  await t.test(
    'a daemon restarted mid-stream fails the command and the watch cleanly; the client goes on',
    async () => {
      const long = sprite.command('sleep', ['60']);
      await long.start();
      const watcher = await sprite.filesystem('/home/sprite').watch('.');
      const watchEnded = new Promise<void>((r) => watcher.once('close', r));
      await d.restart();
      const e = await long.wait().catch((err: unknown) => err);
      assert.ok(e instanceof ConnectionError, String(e));
      await watchEnded;
      assert.ok(watcher.error instanceof ConnectionError, String(watcher.error));
      assert.equal((await sprite.exec('echo again')).stdout, 'again\n', 'the same client works after the restart');
    },
  );
});

export type { Sprite };
