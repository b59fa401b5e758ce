import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import WebSocket from 'ws';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.js';

interface FsEntry {
  name: string;
  path: string;
  type: string;
  size: number;
  mode: string;
  modTime: string;
  isDir: boolean;
}

interface FsErrorBody {
  error: string;
  code: string;
  path?: string;
}

function fsUrl(d: TestDaemon, sprite: string, op: string, q: Record<string, string> = {}): string {
  return `${d.url}/v1/sprites/${sprite}/fs/${op}?${new URLSearchParams(q).toString()}`;
}

async function put(
  d: TestDaemon,
  sprite: string,
  q: Record<string, string>,
  body: string | Buffer,
): Promise<{ status: number; body: unknown }> {
  const res = await fetch(fsUrl(d, sprite, 'write', q), {
    method: 'PUT',
    headers: { authorization: `Bearer ${d.adminToken}`, 'content-type': 'application/octet-stream' },
    body,
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

async function get(
  d: TestDaemon,
  sprite: string,
  op: string,
  q: Record<string, string>,
  headers: Record<string, string> = {},
): Promise<{ status: number; bytes: Buffer; headers: Headers }> {
  const res = await fetch(fsUrl(d, sprite, op, q), {
    headers: { authorization: `Bearer ${d.adminToken}`, ...headers },
  });
  return { status: res.status, bytes: Buffer.from(await res.arrayBuffer()), headers: res.headers };
}

async function list(
  d: TestDaemon,
  sprite: string,
  q: Record<string, string>,
): Promise<{ status: number; body: { path: string; entries: FsEntry[]; count: number } & FsErrorBody }> {
  const r = await get(d, sprite, 'list', q);
  return {
    status: r.status,
    body: JSON.parse(r.bytes.toString()) as { path: string; entries: FsEntry[]; count: number } & FsErrorBody,
  };
}

async function post(
  d: TestDaemon,
  sprite: string,
  op: string,
  body: unknown,
  raw?: string,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(fsUrl(d, sprite, op), {
    method: 'POST',
    headers: { authorization: `Bearer ${d.adminToken}`, 'content-type': 'application/json' },
    body: raw ?? JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

async function del(
  d: TestDaemon,
  sprite: string,
  q: Record<string, string>,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(fsUrl(d, sprite, 'delete', q), {
    method: 'DELETE',
    headers: { authorization: `Bearer ${d.adminToken}` },
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

/**
 * Incompressible bytes made as they are sent (a large body never sits in memory): one random
 * block, stamped with its sequence number. Yields to the event loop between chunks, as a
 * client reading its answer while it uploads must.
 */
async function* pseudoRandomChunks(total: number, chunk = 1024 * 1024): AsyncGenerator<Buffer> {
  const base = randomBytes(chunk);
  let counter = 0;
  for (let sent = 0; sent < total; sent += chunk) {
    const out = Buffer.from(base.subarray(0, Math.min(chunk, total - sent)));
    out.writeUInt32LE(counter++, 0);
    yield out;
    await new Promise((r) => setImmediate(r));
  }
}

/**
 * PUT a streamed body through node:http (fetch wants the whole body or a web stream). A
 * refused upload is answered before the body ends and the connection then closes: like any
 * careful client, the answer counts, not the write error that follows it.
 */
function putStream(
  d: TestDaemon,
  sprite: string,
  q: Record<string, string>,
  body: Readable,
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    let answered = false;
    const req = request(
      fsUrl(d, sprite, 'write', q),
      {
        method: 'PUT',
        headers: { authorization: `Bearer ${d.adminToken}`, 'content-type': 'application/octet-stream' },
      },
      (res) => {
        answered = true;
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      },
    );
    req.on('error', (e) => answered || reject(e));
    body.pipe(req);
  });
}

function rssKb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
}

test('filesystem API: every endpoint, confined to the sprite and its user', async (t) => {
  const d = await startTestDaemon(t);
  /** A script run as user sprite (d.sh runs as root). */
  const asSprite = async (sprite: string, script: string) => {
    const r = await d.exec(sprite, ['sh', '-c', script]);
    assert.equal(r.code, 0, r.stderr);
    return r;
  };
  await d.createSprite('fsa', { ram_mb: 512, storage_gb: 3 });
  await d.createSprite('fsb', { ram_mb: 256, storage_gb: 1 });

  await t.test('write then read: raw bytes, mode, parents created, owned by sprite', async () => {
    const bytes = randomBytes(100_000);
    const w = await put(
      d,
      'fsa',
      { path: 'a/b/c.bin', workingDir: '/home/sprite', mode: '0640', mkdirParents: 'true' },
      bytes,
    );
    assert.equal(w.status, 200);
    assert.deepEqual(w.body, { path: '/home/sprite/a/b/c.bin', size: 100_000, mode: '0640' });
    const r = await get(d, 'fsa', 'read', { path: '/home/sprite/a/b/c.bin' });
    assert.equal(r.status, 200);
    assert.ok(r.bytes.equals(bytes));
    const st = await d.exec('fsa', ['stat', '-c', '%U:%G %a', '/home/sprite/a/b/c.bin', '/home/sprite/a/b']);
    assert.equal(st.stdout, 'sprite:sprite 640\nsprite:sprite 755\n');
    // An empty body makes an empty file (the Go SDK's Mkdir writes dir/.keep).
    assert.equal(
      (await put(d, 'fsa', { path: 'made/by/go/.keep', mode: '0750', mkdirParents: 'true' }, '')).status,
      200,
    );
    assert.equal(
      (await d.exec('fsa', ['stat', '-c', '%s %F', '/home/sprite/made/by/go/.keep'])).stdout,
      '0 regular empty file\n',
    );
    // Overwrite truncates and keeps the mode unless one is given.
    assert.equal((await put(d, 'fsa', { path: '/home/sprite/a/b/c.bin' }, 'short')).status, 200);
    assert.equal((await get(d, 'fsa', 'read', { path: '/home/sprite/a/b/c.bin' })).bytes.toString(), 'short');
    assert.equal((await d.exec('fsa', ['stat', '-c', '%a', '/home/sprite/a/b/c.bin'])).stdout, '640\n');
    // As root, the file belongs to root.
    assert.equal((await put(d, 'fsa', { path: '/etc/from-api', asRoot: 'true' }, 'root wrote')).status, 200);
    assert.equal((await d.exec('fsa', ['stat', '-c', '%U', '/etc/from-api'])).stdout, 'root\n');
  });

  await t.test('byte ranges: Range header (206) and start/end offsets', async () => {
    await put(d, 'fsa', { path: '/home/sprite/range.txt' }, '0123456789');
    const r = await get(d, 'fsa', 'read', { path: '/home/sprite/range.txt' }, { range: 'bytes=2-5' });
    assert.equal(r.status, 206);
    assert.equal(r.bytes.toString(), '2345');
    assert.equal(r.headers.get('content-range'), 'bytes 2-5/10');
    assert.equal(
      (await get(d, 'fsa', 'read', { path: '/home/sprite/range.txt' }, { range: 'bytes=-3' })).bytes.toString(),
      '789',
    );
    assert.equal((await get(d, 'fsa', 'read', { path: '/home/sprite/range.txt', start: '7' })).bytes.toString(), '789');
    assert.equal(
      (await get(d, 'fsa', 'read', { path: '/home/sprite/range.txt', start: '1', end: '3' })).bytes.toString(),
      '12',
    );
    assert.equal(
      (await get(d, 'fsa', 'read', { path: '/home/sprite/range.txt' }, { range: 'bytes=50-60' })).status,
      416,
    );
  });

  await t.test('list: a file is itself, a directory its children; recursive, pattern, symlinks typed', async () => {
    await asSprite(
      'fsa',
      'mkdir -p /home/sprite/l/sub && echo hi > /home/sprite/l/x.txt && echo yo > /home/sprite/l/sub/y.md && ln -s x.txt /home/sprite/l/link && chmod 600 /home/sprite/l/x.txt',
    );
    const file = await list(d, 'fsa', { path: 'l/x.txt', workingDir: '/home/sprite' });
    assert.equal(file.status, 200);
    assert.equal(file.body.count, 1);
    const e = file.body.entries[0]!;
    assert.deepEqual(
      { ...e, modTime: undefined },
      {
        name: 'x.txt',
        path: '/home/sprite/l/x.txt',
        type: 'file',
        size: 3,
        mode: '0600',
        modTime: undefined,
        isDir: false,
      },
    );
    assert.ok(!Number.isNaN(Date.parse(e.modTime)) && /T.*Z$/.test(e.modTime), 'modTime is RFC 3339');
    const dir = await list(d, 'fsa', { path: '/home/sprite/l' });
    assert.equal(dir.body.path, '/home/sprite/l');
    assert.deepEqual(
      dir.body.entries.map((x) => `${x.name}:${x.type}:${x.isDir}`),
      ['link:symlink:false', 'sub:directory:true', 'x.txt:file:false'],
    );
    const rec = await list(d, 'fsa', { path: '/home/sprite/l', recursive: 'true' });
    assert.deepEqual(
      rec.body.entries.map((x) => x.path),
      ['/home/sprite/l/link', '/home/sprite/l/sub', '/home/sprite/l/sub/y.md', '/home/sprite/l/x.txt'],
    );
    const md = await list(d, 'fsa', { path: '/home/sprite/l', recursive: 'true', pattern: '*.md' });
    assert.deepEqual(
      md.body.entries.map((x) => x.name),
      ['y.md'],
    );
    assert.equal((await list(d, 'fsa', { path: '/home/sprite/nothing-here' })).status, 404);
  });

  await t.test('delete, rename, copy, chmod, chown', async () => {
    await asSprite(
      'fsa',
      'mkdir -p /home/sprite/ops/tree/deep && echo one > /home/sprite/ops/tree/a && echo two > /home/sprite/ops/tree/deep/b',
    );
    const notEmpty = await del(d, 'fsa', { path: '/home/sprite/ops/tree' });
    assert.equal(notEmpty.status, 409);
    assert.equal(notEmpty.body.code, 'ENOTEMPTY');
    const copy = await post(d, 'fsa', 'copy', {
      source: 'ops/tree',
      dest: 'ops/copy',
      workingDir: '/home/sprite',
      recursive: true,
    });
    assert.equal(copy.status, 200);
    assert.equal(copy.body.count, 4);
    assert.equal(copy.body.totalBytes, 8);
    assert.equal((await get(d, 'fsa', 'read', { path: '/home/sprite/ops/copy/deep/b' })).bytes.toString(), 'two\n');
    const dirCopy = await post(d, 'fsa', 'copy', { source: '/home/sprite/ops/tree', dest: '/home/sprite/ops/nope' });
    assert.equal(dirCopy.status, 400);
    assert.equal(dirCopy.body.code, 'EISDIR');
    const ren = await post(d, 'fsa', 'rename', { source: '/home/sprite/ops/copy/a', dest: '/home/sprite/ops/renamed' });
    assert.deepEqual(ren, {
      status: 200,
      body: { source: '/home/sprite/ops/copy/a', dest: '/home/sprite/ops/renamed' },
    });
    assert.equal(
      (await post(d, 'fsa', 'rename', { source: '/home/sprite/ops/missing', dest: '/home/sprite/ops/x' })).status,
      404,
    );
    const chmod = await post(d, 'fsa', 'chmod', { path: '/home/sprite/ops/tree', mode: '0700', recursive: true });
    assert.equal(chmod.status, 200);
    assert.equal(chmod.body.count, 4);
    assert.equal((await d.exec('fsa', ['stat', '-c', '%a', '/home/sprite/ops/tree/deep/b'])).stdout, '700\n');
    // chown: only root may give a file away.
    const asUser = await post(d, 'fsa', 'chown', { path: '/home/sprite/ops/renamed', uid: 0, gid: 0 });
    assert.equal(asUser.status, 403);
    assert.equal(asUser.body.code, 'EPERM');
    const asRoot = await post(d, 'fsa', 'chown', { path: '/home/sprite/ops/renamed', uid: 0, gid: 0, asRoot: true });
    assert.equal(asRoot.status, 200);
    assert.deepEqual(asRoot.body.affected, [{ path: '/home/sprite/ops/renamed', uid: 0, gid: 0 }]);
    assert.equal((await d.exec('fsa', ['stat', '-c', '%U:%G', '/home/sprite/ops/renamed'])).stdout, 'root:root\n');
    const gone = await del(d, 'fsa', { path: '/home/sprite/ops', recursive: 'true' });
    assert.equal(gone.status, 200);
    assert.equal(gone.body.count, 9);
    assert.equal((await list(d, 'fsa', { path: '/home/sprite/ops' })).status, 404);
    assert.equal((await del(d, 'fsa', { path: '/home/sprite/ops' })).status, 404);
  });

  await t.test(
    'confinement: .., absolute paths, symlinks and hard links stay inside the sprite and its user',
    async () => {
      // A file on the host, and one in the other sprite: neither is reachable.
      const hostDir = mkdtempSync('/tmp/spr-fs-host-');
      t.after(() => rmSync(hostDir, { recursive: true, force: true }));
      writeFileSync(`${hostDir}/secret`, 'host secret');
      await put(d, 'fsb', { path: '/home/sprite/b-secret' }, 'b secret');
      for (const path of [`${hostDir}/secret`, `../../../../../..${hostDir}/secret`, '/home/sprite/b-secret']) {
        const r = await get(d, 'fsa', 'read', { path });
        assert.equal(r.status, 404, path);
      }
      await asSprite(
        'fsa',
        `ln -sf ${hostDir}/secret /home/sprite/to-host && ln -sf /etc/shadow /home/sprite/to-shadow && ln -sf /etc/passwd /home/sprite/to-passwd`,
      );
      assert.equal((await get(d, 'fsa', 'read', { path: '/home/sprite/to-host' })).status, 404);
      // The sprite user may not read /etc/shadow, nor write /etc/passwd, by any path.
      const shadow = await get(d, 'fsa', 'read', { path: '/home/sprite/to-shadow' });
      assert.equal(shadow.status, 403);
      assert.equal((JSON.parse(shadow.bytes.toString()) as FsErrorBody).code, 'EACCES');
      const passwdBefore = (await d.exec('fsa', ['sha256sum', '/etc/passwd'])).stdout;
      const w = await put(d, 'fsa', { path: '/home/sprite/to-passwd' }, 'pwned');
      assert.equal(w.status, 403);
      assert.equal((await put(d, 'fsa', { path: '/etc/passwd' }, 'pwned')).status, 403);
      assert.equal((await post(d, 'fsa', 'chmod', { path: '/home/sprite/to-passwd', mode: '0777' })).status, 403);
      assert.equal((await d.exec('fsa', ['sha256sum', '/etc/passwd'])).stdout, passwdBefore);
      // A hard link (protected_hardlinks stops linking files one does not own; root makes one).
      await d.sh('fsa', 'ln /etc/shadow /home/sprite/hard-shadow');
      assert.equal((await get(d, 'fsa', 'read', { path: '/home/sprite/hard-shadow' })).status, 403);
      // A symlink swapped in while reading: each read sees the plain file or is refused.
      await asSprite('fsa', 'echo plain > /home/sprite/plain');
      const swapper = asSprite(
        'fsa',
        'for i in $(seq 400); do ln -sfn /etc/shadow /home/sprite/swap; ln -sfn /home/sprite/plain /home/sprite/swap; done',
      );
      const seen = new Set<string>();
      for (let i = 0; i < 40; i++) {
        const r = await get(d, 'fsa', 'read', { path: '/home/sprite/swap' });
        seen.add(r.status === 200 ? r.bytes.toString() : String(r.status));
      }
      await swapper;
      for (const s of seen) assert.ok(s === 'plain\n' || s === '403' || s === '404', `unexpected read: ${s}`);
    },
  );

  await t.test('bad input: missing path, bad mode, non-JSON, directory for a file', async () => {
    const expect = async (p: Promise<{ status: number; body: unknown }>, status: number, code: string) => {
      const r = await p;
      assert.equal(r.status, status, JSON.stringify(r.body));
      assert.equal((r.body as FsErrorBody).code, code, JSON.stringify(r.body));
      assert.ok((r.body as FsErrorBody).error.length > 0);
    };
    await expect(put(d, 'fsa', {}, 'x'), 400, 'EINVAL');
    await expect(put(d, 'fsa', { path: '/home/sprite/m', mode: '0999' }, 'x'), 400, 'EINVAL');
    await expect(put(d, 'fsa', { path: '/home/sprite/m', mode: 'rwx' }, 'x'), 400, 'EINVAL');
    await expect(put(d, 'fsa', { path: '/home/sprite' }, 'x'), 400, 'EISDIR');
    await expect(put(d, 'fsa', { path: 'x', workingDir: 'relative' }, 'x'), 400, 'EINVAL');
    await expect(post(d, 'fsa', 'rename', undefined, 'not json'), 400, 'EINVAL');
    await expect(post(d, 'fsa', 'rename', undefined, '[1,2]'), 400, 'EINVAL');
    await expect(post(d, 'fsa', 'rename', { source: '/home/sprite/x' }), 400, 'EINVAL');
    await expect(post(d, 'fsa', 'chmod', { path: '/home/sprite' }), 400, 'EINVAL');
    await expect(post(d, 'fsa', 'chown', { path: '/home/sprite', uid: 'root' }), 400, 'EINVAL');
    await expect(post(d, 'fsa', 'chown', { path: '/home/sprite' }), 400, 'EINVAL');
    const dirRead = await get(d, 'fsa', 'read', { path: '/home/sprite' });
    assert.equal(dirRead.status, 400);
    assert.equal((JSON.parse(dirRead.bytes.toString()) as FsErrorBody).code, 'EISDIR');
    assert.equal((await get(d, 'fsa', 'nothing', {})).status, 404);
    assert.equal((await get(d, 'fsa', 'write', { path: '/x' })).status, 405);
    const unknownSprite = await get(d, 'no-such-sprite', 'read', { path: '/x' });
    assert.equal(unknownSprite.status, 404);
    assert.equal((JSON.parse(unknownSprite.bytes.toString()) as FsErrorBody).error, 'sprite_not_found');
    const noAuth = await fetch(fsUrl(d, 'fsa', 'read', { path: '/etc/hostname' }));
    assert.equal(noAuth.status, 401);
    // The agent and daemon keep serving.
    assert.equal((await get(d, 'fsa', 'read', { path: '/home/sprite/range.txt' })).bytes.toString(), '0123456789');
  });

  await t.test('10,000 small files list correctly', async () => {
    await asSprite('fsa', 'mkdir -p /home/sprite/many && cd /home/sprite/many && seq -f "f%05g" 1 10000 | xargs touch');
    const r = await list(d, 'fsa', { path: '/home/sprite/many' });
    assert.equal(r.body.count, 10_000);
    assert.equal(r.body.entries.length, 10_000);
    assert.equal(r.body.entries[0]!.name, 'f00001');
    assert.equal(r.body.entries[9999]!.name, 'f10000');
    assert.ok(r.body.entries.every((e) => e.type === 'file' && e.size === 0));
    assert.equal((await del(d, 'fsa', { path: '/home/sprite/many', recursive: 'true' })).body.count, 10_001);
  });

  await t.test('a 1 GB file round-trips byte-identical with bounded daemon memory', async () => {
    const size = 1024 * 1024 * 1024;
    const sent = createHash('sha256');
    const rssBefore = rssKb(d.pid);
    const source = Readable.from(
      (async function* () {
        for await (const c of pseudoRandomChunks(size)) {
          sent.update(c);
          yield c;
        }
      })(),
    );
    const w = await putStream(d, 'fsa', { path: '/home/sprite/big.bin' }, source);
    assert.equal(w.status, 200, w.text);
    assert.equal((JSON.parse(w.text) as { size: number }).size, size);
    const res = await fetch(fsUrl(d, 'fsa', 'read', { path: '/home/sprite/big.bin' }), {
      headers: { authorization: `Bearer ${d.adminToken}` },
    });
    assert.equal(res.status, 200);
    const got = createHash('sha256');
    let bytes = 0;
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      got.update(chunk);
      bytes += chunk.length;
    }
    assert.equal(bytes, size);
    assert.equal(got.digest('hex'), sent.digest('hex'));
    const grownMb = (rssKb(d.pid) - rssBefore) / 1024;
    assert.ok(grownMb < 200, `daemon RSS grew by ${grownMb.toFixed(0)} MB moving 2 GB`);
    await del(d, 'fsa', { path: '/home/sprite/big.bin' });
  });

  await t.test('a write over the disk quota fails clearly and leaves the old file, no partial one', async () => {
    await put(d, 'fsb', { path: '/home/sprite/keep.txt' }, 'old contents');
    // Random bytes: the pool may compress, and zeros would cost no quota.
    await asSprite('fsb', 'head -c 900M /dev/urandom > /home/sprite/fill && sync');
    const w = await putStream(
      d,
      'fsb',
      { path: '/home/sprite/keep.txt' },
      Readable.from(pseudoRandomChunks(300 * 1024 * 1024)),
    );
    assert.equal(w.status, 507, w.text);
    const body = JSON.parse(w.text) as FsErrorBody;
    assert.match(body.code, /^(EDQUOT|ENOSPC)$/);
    assert.match(body.error, /storage_gb/);
    assert.equal((await get(d, 'fsb', 'read', { path: '/home/sprite/keep.txt' })).bytes.toString(), 'old contents');
    const names = (await list(d, 'fsb', { path: '/home/sprite' })).body.entries.map((e) => e.name);
    assert.ok(!names.some((n) => n.includes('.upload-')), `a temporary upload was left: ${names.join(' ')}`);
    await d.exec('fsb', ['rm', '/home/sprite/fill']);
  });

  await t.test('fs/watch: create, write, chmod, rename and remove events under a subscribed tree', async () => {
    await asSprite('fsa', 'mkdir -p /home/sprite/w/inner');
    const ws = new WebSocket(`${d.url.replace(/^http/, 'ws')}/v1/sprites/fsa/fs/watch`, {
      headers: { authorization: `Bearer ${d.adminToken}` },
    });
    const events: {
      type: string;
      event?: string;
      path?: string;
      paths?: string[];
      isDir?: boolean;
      timestamp?: string;
    }[] = [];
    ws.on('message', (m: Buffer) => events.push(JSON.parse(m.toString()) as (typeof events)[number]));
    await new Promise((r) => ws.once('open', r));
    ws.send(JSON.stringify({ type: 'subscribe', paths: ['w'], recursive: true, workingDir: '/home/sprite' }));
    const waitFor = async (pred: () => boolean, what: string) => {
      for (let i = 0; i < 100 && !pred(); i++) await new Promise((r) => setTimeout(r, 50));
      assert.ok(pred(), `${what}: ${JSON.stringify(events)}`);
    };
    await waitFor(() => events.some((e) => e.type === 'subscribed'), 'subscribed');
    assert.deepEqual(events[0], { type: 'subscribed', paths: ['/home/sprite/w'] });
    await asSprite(
      'fsa',
      'cd /home/sprite/w && echo a > inner/f && chmod 600 inner/f && mv inner/f inner/g && mkdir newdir && echo b > newdir/h && rm inner/g',
    );
    await put(d, 'fsa', { path: '/home/sprite/w/uploaded' }, 'via api');
    const has = (event: string, path: string) =>
      events.some((e) => e.type === 'event' && e.event === event && e.path === path);
    await waitFor(() => has('write', '/home/sprite/w/uploaded'), 'upload seen as a write');
    for (const [event, path] of [
      ['create', '/home/sprite/w/inner/f'],
      ['write', '/home/sprite/w/inner/f'],
      ['chmod', '/home/sprite/w/inner/f'],
      ['rename', '/home/sprite/w/inner/g'],
      ['create', '/home/sprite/w/newdir'],
      ['create', '/home/sprite/w/newdir/h'],
      ['remove', '/home/sprite/w/inner/g'],
    ] as const) {
      assert.ok(has(event, path), `${event} ${path}: ${JSON.stringify(events)}`);
    }
    assert.ok(!events.some((e) => e.path?.includes('.upload-')), 'temporary upload names never show');
    assert.ok(events.some((e) => e.path === '/home/sprite/w/newdir' && e.isDir === true));
    ws.close();
  });
});
