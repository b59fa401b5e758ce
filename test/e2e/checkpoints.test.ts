import assert from 'node:assert/strict';
import { test } from 'node:test';
import WebSocket from 'ws';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import { execUrl, pollUntil } from '../helpers/ws.js';

interface StreamLine {
  type: string;
  data?: string;
  error?: string;
  time: string;
}

interface Checkpoint {
  id: string;
  create_time: string;
  history: string[];
  is_auto: boolean;
  comment?: string;
  source_id?: string;
}

async function ndjson(
  d: TestDaemon,
  path: string,
  body?: unknown,
): Promise<{ status: number; lines: StreamLine[]; contentType: string | null }> {
  const res = await fetch(`${d.url}${path}`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${d.adminToken}`,
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    body: body !== undefined ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  const lines =
    res.status === 200
      ? text
          .split('\n')
          .filter((l) => l !== '')
          .map((l) => JSON.parse(l) as StreamLine)
      : [];
  return { status: res.status, lines, contentType: res.headers.get('content-type') };
}

async function checkpoint(d: TestDaemon, sprite: string, comment?: string): Promise<string> {
  const r = await ndjson(d, `/v1/sprites/${sprite}/checkpoint`, comment !== undefined ? { comment } : {});
  assert.equal(r.status, 200);
  const last = r.lines.at(-1)!;
  assert.equal(last.type, 'complete', JSON.stringify(r.lines));
  return /Checkpoint (\S+) created/.exec(last.data ?? '')![1]!;
}

async function restore(d: TestDaemon, sprite: string, id: string): Promise<StreamLine[]> {
  const r = await ndjson(d, `/v1/sprites/${sprite}/checkpoints/${id}/restore`);
  assert.equal(r.status, 200);
  assert.equal(r.lines.at(-1)!.type, 'complete', JSON.stringify(r.lines));
  return r.lines;
}

/** Every path under a directory with its type, mode, owner, link target and content hash. */
async function manifest(d: TestDaemon, sprite: string, dir: string): Promise<string> {
  const r = await d.sh(
    sprite,
    `cd ${dir} && find . -printf '%p %y %m %u:%g %l\\n' | sort && find . -type f -exec sha256sum {} + | sort`,
  );
  assert.equal(r.code, 0, r.stderr);
  return r.stdout;
}

test('checkpoints: consistent copy-on-write snapshots, exact restores, per-sprite ids', async (t) => {
  const d = await startTestDaemon(t);
  await d.createSprite('cp', { ram_mb: 512, storage_gb: 2 });
  await d.createSprite('other', { ram_mb: 256, storage_gb: 1 });
  const asSprite = async (script: string) => {
    const r = await d.exec('cp', ['sh', '-c', script]);
    assert.equal(r.code, 0, r.stderr);
    return r;
  };

  await t.test(
    'restore brings the disk back exactly: contents, modes, owners, symlinks, deleted and new files',
    async () => {
      await asSprite(
        'mkdir -p /home/sprite/data/sub && cd /home/sprite/data && echo one > a && printf two > sub/b && chmod 640 a && ln -s sub/b link && head -c 100000 /dev/urandom > blob',
      );
      await d.sh(
        'cp',
        'echo root-owned > /home/sprite/data/rootfile && chmod 600 /home/sprite/data/rootfile && echo etc > /etc/from-test',
      );
      const before = await manifest(d, 'cp', '/home/sprite/data');
      const created = await ndjson(d, '/v1/sprites/cp/checkpoint', { comment: 'first' });
      assert.equal(created.status, 200);
      assert.match(created.contentType ?? '', /application\/x-ndjson/);
      assert.ok(
        created.lines.every((l) => typeof l.time === 'string' && ['info', 'complete'].includes(l.type)),
        JSON.stringify(created.lines),
      );
      assert.equal(created.lines.at(-1)!.data, 'Checkpoint v0 created');

      await asSprite(
        'cd /home/sprite/data && echo changed > a && rm sub/b && rm link && ln -s a link && chmod 777 blob && echo new > newfile',
      );
      await d.sh('cp', 'rm /home/sprite/data/rootfile /etc/from-test');
      assert.notEqual(await manifest(d, 'cp', '/home/sprite/data'), before);

      const lines = await restore(d, 'cp', 'v0');
      assert.ok(lines.some((l) => l.type === 'info'));
      // The next request just works, and the disk is as it was.
      assert.equal(await manifest(d, 'cp', '/home/sprite/data'), before);
      assert.equal((await d.exec('cp', ['cat', '/etc/from-test'])).stdout, 'etc\n');
    },
  );

  await t.test('list, get, history and auto checkpoints', async () => {
    const v1 = await checkpoint(d, 'cp', 'second');
    assert.equal(v1, 'v1');
    const list = await d.api<Checkpoint[]>('GET', '/v1/sprites/cp/checkpoints');
    assert.equal(list.status, 200);
    assert.match(list.headers.get('content-type') ?? '', /application\/json/);
    assert.deepEqual(
      list.body.map((c) => c.id),
      ['v1', 'v0'],
      'newest first, auto ones hidden',
    );
    assert.deepEqual(list.body[0]!.history, ['v0']);
    assert.equal(list.body[0]!.source_id, 'v0');
    assert.equal(list.body[0]!.comment, 'second');
    assert.ok(!Number.isNaN(Date.parse(list.body[0]!.create_time)));
    const withAuto = await d.api<Checkpoint[]>('GET', '/v1/sprites/cp/checkpoints?includeAuto=true');
    const autos = withAuto.body.filter((c) => c.is_auto);
    assert.equal(autos.length, 1, 'the restore took one auto checkpoint first');
    assert.match(autos[0]!.id, /^auto-\d+$/);
    const history = await d.api<Checkpoint[]>('GET', '/v1/sprites/cp/checkpoints?history=v0');
    assert.deepEqual(
      history.body.map((c) => c.id),
      ['v1', 'v0'],
    );
    const got = await d.api<Checkpoint>('GET', '/v1/sprites/cp/checkpoints/v1');
    assert.equal(got.body.id, 'v1');
    assert.equal((await d.api('GET', '/v1/sprites/cp/checkpoints/v99')).status, 404);
    assert.equal((await d.api('GET', '/v1/sprites/cp/checkpoints/..%2Fx')).status, 404);
    // The checkpoint the disk descends from cannot be deleted; an older one can.
    assert.equal((await d.api('DELETE', '/v1/sprites/cp/checkpoints/v1')).status, 409);
    const auto = autos[0]!.id;
    assert.equal((await d.api('DELETE', `/v1/sprites/cp/checkpoints/${auto}`)).status, 204);
    assert.equal((await d.api('GET', `/v1/sprites/cp/checkpoints/${auto}`)).status, 404);
  });

  await t.test('named checkpoints are browsable, read-only, at /.sprite/checkpoints/<id>/', async () => {
    const ls = await d.exec('cp', ['ls', '-a', '/.sprite/checkpoints']);
    assert.equal(ls.stdout, '.\n..\nv0\nv1\n', `auto checkpoints are not shown: ${ls.stderr}`);
    const old = await d.exec('cp', ['cat', '/.sprite/checkpoints/v0/home/sprite/data/a']);
    assert.equal(old.stdout, 'one\n');
    const owner = await d.exec('cp', ['stat', '-c', '%U', '/.sprite/checkpoints/v0/home/sprite/data/a']);
    assert.equal(owner.stdout, 'sprite\n', 'owners look the same as on the live disk');
    const write = await d.sh('cp', 'echo x > /.sprite/checkpoints/v0/home/sprite/data/a');
    assert.notEqual(write.code, 0);
    assert.match(write.stderr, /Read-only file system/);
    const mkdirInside = await d.sh('cp', 'mkdir /.sprite/checkpoints/mine');
    assert.notEqual(mkdirInside.code, 0, 'not even root adds to the view');
    for (let i = 0; i < 5; i++) await checkpoint(d, 'cp');
    const seven = await d.exec('cp', ['ls', '/.sprite/checkpoints']);
    assert.equal(seven.stdout, 'v0\nv1\nv2\nv3\nv4\nv5\nv6\n', 'new checkpoints appear in the running sprite');
    // A process sitting inside a checkpoint does not stop its deletion.
    const sitter = d.exec('cp', ['sh', '-c', 'cd /.sprite/checkpoints/v2/home && sleep 3']);
    await new Promise((r) => setTimeout(r, 500));
    assert.equal((await d.api('DELETE', '/v1/sprites/cp/checkpoints/v2')).status, 204);
    await sitter;
    assert.equal((await d.exec('cp', ['ls', '/.sprite/checkpoints'])).stdout, 'v0\nv1\nv3\nv4\nv5\nv6\n');
  });

  await t.test("another sprite's checkpoint id is not found; bad bodies are 400", async () => {
    assert.equal((await ndjson(d, '/v1/sprites/other/checkpoints/v0/restore')).status, 404);
    assert.equal((await ndjson(d, '/v1/sprites/nobody/checkpoint', {})).status, 404);
    assert.equal((await ndjson(d, '/v1/sprites/cp/checkpoint', { comment: 42 })).status, 400);
    assert.equal((await ndjson(d, '/v1/sprites/cp/checkpoint', ['x'])).status, 400);
    assert.equal((await d.api<Checkpoint[]>('GET', '/v1/sprites/other/checkpoints')).body.length, 0);
  });

  await t.test(
    'a process writing during a checkpoint goes on; the checkpoint is consistent (SQLite integrity)',
    async () => {
      const writer = `import sqlite3, time
db = sqlite3.connect('/home/sprite/w.db')
db.execute('create table if not exists t (i integer, pad text)')
i = 0
while True:
    db.execute('insert into t values (?, ?)', (i, 'x' * 2000))
    db.commit()
    i += 1
    if i % 50 == 0:
        open('/home/sprite/progress', 'w').write(str(i))
`;
      await d.exec('cp', ['sh', '-c', `cat > /home/sprite/writer.py <<'EOF'\n${writer}EOF`]);
      const ws = new WebSocket(
        execUrl(d.url, 'cp', [
          ['cmd', 'python3'],
          ['cmd', '/home/sprite/writer.py'],
          ['stdin', 'false'],
        ]),
        { headers: { authorization: `Bearer ${d.adminToken}` } },
      );
      t.after(() => ws.terminate());
      const progress = async () => Number((await d.exec('cp', ['cat', '/home/sprite/progress'])).stdout || 0);
      await pollUntil(async () => (await progress()) >= 100, 30_000, 'the writer started');
      const id = await checkpoint(d, 'cp', 'under load');
      const atCheckpoint = await progress();
      await pollUntil(
        async () => (await progress()) > atCheckpoint + 100,
        30_000,
        'the writer keeps going after the checkpoint',
      );
      ws.terminate();
      await restore(d, 'cp', id);
      const check = await d.exec('cp', [
        'python3',
        '-c',
        "import sqlite3; c = sqlite3.connect('/home/sprite/w.db'); print(c.execute('pragma integrity_check').fetchone()[0], c.execute('select count(*) > 0 from t').fetchone()[0])",
      ]);
      assert.equal(check.stdout, 'ok 1\n', check.stderr);
    },
  );

  await t.test('restore ends an attached session cleanly; exec right after works', async () => {
    const ws = new WebSocket(
      execUrl(d.url, 'cp', [
        ['cmd', 'sleep'],
        ['cmd', '1000'],
        ['tty', 'true'],
      ]),
      { headers: { authorization: `Bearer ${d.adminToken}` } },
    );
    await new Promise((r) => ws.once('message', r));
    const closed = new Promise<number>((r) => ws.once('close', (code) => r(code)));
    assert.equal(
      (
        await fetch(`${d.url}/v1/sprites/cp/fs/read?path=/home/sprite/data/a`, {
          headers: { authorization: `Bearer ${d.adminToken}` },
        })
      ).status,
      200,
    );
    await restore(d, 'cp', 'v1');
    const code = await Promise.race([closed, new Promise<number>((r) => setTimeout(() => r(-1), 10_000))]);
    assert.notEqual(code, -1, 'the session socket closed');
    assert.equal((await d.exec('cp', ['echo', 'back'])).stdout, 'back\n');
    // Plain HTTP reaches the restarted agent too (no stale kept-alive connection).
    const read = await fetch(`${d.url}/v1/sprites/cp/fs/read?path=/home/sprite/data/a`, {
      headers: { authorization: `Bearer ${d.adminToken}` },
    });
    assert.equal(read.status, 200);
    assert.equal(await read.text(), 'one\n');
    const sessions = await d.api<{ sessions: { id: string }[] }>('GET', '/v1/sprites/cp/exec');
    assert.deepEqual(sessions.body.sessions, [], 'the restore ended every session');
  });

  await t.test('100 checkpoints list, read and restore correctly', async () => {
    const first = (await d.api<Checkpoint[]>('GET', '/v1/sprites/other/checkpoints')).body.length;
    for (let i = 0; i < 100; i++) {
      const w = await fetch(`${d.url}/v1/sprites/other/fs/write?path=/home/sprite/n`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${d.adminToken}` },
        body: String(i),
      });
      assert.equal(w.status, 200);
      assert.equal(await checkpoint(d, 'other'), `v${first + i}`);
    }
    const list = await d.api<Checkpoint[]>('GET', '/v1/sprites/other/checkpoints');
    assert.equal(list.body.length, 100);
    assert.equal(list.body[0]!.id, 'v99');
    assert.equal(list.body[99]!.id, 'v0');
    assert.equal(list.body[0]!.history.length, 99);
    for (const i of [0, 37, 99]) {
      assert.equal((await d.api<Checkpoint>('GET', `/v1/sprites/other/checkpoints/v${i}`)).body.id, `v${i}`);
    }
    for (const i of [37, 5, 99]) {
      await restore(d, 'other', `v${i}`);
      assert.equal((await d.exec('other', ['cat', '/home/sprite/n'])).stdout, String(i));
    }
  });

  await t.test('what checkpoints hold counts against the disk quota, also after a restore', async () => {
    await d.createSprite('quota', { ram_mb: 256, storage_gb: 1 });
    const sh = (script: string) => d.exec('quota', ['sh', '-c', script]);
    assert.equal((await sh('head -c 600M /dev/urandom > /home/sprite/big && sync && echo ok')).stdout, 'ok\n');
    await checkpoint(d, 'quota');
    // Deleted from the disk, still kept by the checkpoint: no room for another 600 MB.
    const again = await sh('rm /home/sprite/big && sync && head -c 600M /dev/urandom > /home/sprite/big2; echo rc=$?');
    assert.match(again.stderr, /Disk quota exceeded/, again.stdout);
    await sh('rm -f /home/sprite/big2; sync');
    await restore(d, 'quota', 'v0');
    assert.equal((await sh('stat -c %s /home/sprite/big')).stdout, '629145600\n');
    const afterRestore = await sh('head -c 600M /dev/urandom > /home/sprite/big3; echo rc=$?');
    assert.match(afterRestore.stderr, /Disk quota exceeded/, 'a restore does not reset the quota');
  });

  await t.test(
    'kill -9 of the daemon during checkpoint or restore: the disk is before or after, the list truthful',
    async () => {
      await d.createSprite('crash', { ram_mb: 256, storage_gb: 1 });
      const mark = async (text: string) => {
        const w = await fetch(`${d.url}/v1/sprites/crash/fs/write?path=/home/sprite/mark`, {
          method: 'PUT',
          headers: { authorization: `Bearer ${d.adminToken}` },
          body: text,
        });
        assert.equal(w.status, 200);
      };
      await mark('at-v0');
      await checkpoint(d, 'crash');
      for (const delayMs of [0, 30, 80, 150, 300]) {
        await mark(`before-${delayMs}`);
        // Fire a restore of v0 (or a new checkpoint, alternately) and kill the daemon meanwhile.
        const restoring = delayMs % 20 === 0;
        const path = restoring ? '/v1/sprites/crash/checkpoints/v0/restore' : '/v1/sprites/crash/checkpoint';
        const pending = fetch(`${d.url}${path}`, {
          method: 'POST',
          headers: { authorization: `Bearer ${d.adminToken}`, 'content-type': 'application/json' },
          body: '{}',
        })
          .then((r) => r.text())
          .catch(() => 'cut off');
        await new Promise((r) => setTimeout(r, delayMs));
        await d.restart({ kill9: true });
        await pending;
        const disk = (await d.exec('crash', ['cat', '/home/sprite/mark'])).stdout;
        assert.ok(
          disk === `before-${delayMs}` || (restoring && disk === 'at-v0'),
          `after a kill at ${delayMs} ms the disk says ${JSON.stringify(disk)}`,
        );
        // Every listed checkpoint is real: it can be read back by a restore.
        const list = await d.api<Checkpoint[]>('GET', '/v1/sprites/crash/checkpoints?includeAuto=true');
        assert.equal(list.status, 200);
        assert.ok(list.body.some((c) => c.id === 'v0'));
      }
      const list = await d.api<Checkpoint[]>('GET', '/v1/sprites/crash/checkpoints');
      for (const c of list.body) await restore(d, 'crash', c.id);
      await restore(d, 'crash', 'v0');
      assert.equal((await d.exec('crash', ['cat', '/home/sprite/mark'])).stdout, 'at-v0');
    },
  );
});
