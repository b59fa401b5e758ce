import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import { pollUntil } from '../helpers/ws.js';

/** What a sprite could do to the host's storage and to its own agent, and what it gets. */

interface StreamLine {
  type: string;
  data?: string;
  error?: string;
}

async function ndjson(d: TestDaemon, path: string, body: unknown = {}): Promise<StreamLine[]> {
  const res = await fetch(`${d.url}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${d.adminToken}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  assert.equal(res.status, 200);
  return (await res.text())
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as StreamLine);
}

async function checkpoint(d: TestDaemon, sprite: string): Promise<string> {
  const lines = await ndjson(d, `/v1/sprites/${sprite}/checkpoint`);
  assert.equal(lines.at(-1)?.type, 'complete', JSON.stringify(lines));
  return /Checkpoint (\S+) created/.exec(lines.at(-1)?.data ?? '')![1]!;
}

const pool = (d: TestDaemon) => join(d.dataDir, 'storage', 'pool');

/** Paths (relative to the pool) of every subvolume in it. */
function subvolumes(d: TestDaemon): string[] {
  const out = execFileSync('btrfs', ['subvolume', 'list', pool(d)], { encoding: 'utf8' });
  return out
    .split('\n')
    .map((l) => /^ID \d+ gen \d+ top level \d+ path (.*)$/.exec(l)?.[1])
    .filter((p): p is string => p !== undefined);
}

/** Level-0 quota groups (0/N) in the pool. */
function qgroups(d: TestDaemon): Set<string> {
  const out = execFileSync('btrfs', ['qgroup', 'show', pool(d)], { encoding: 'utf8' });
  return new Set(
    out
      .split('\n')
      .map((l) => /^(0\/\d+)\s/.exec(l)?.[1])
      .filter((g): g is string => g !== undefined),
  );
}

function rootId(path: string): string {
  return `0/${execFileSync('btrfs', ['inspect-internal', 'rootid', path], { encoding: 'utf8' }).trim()}`;
}

/** Host pids of the sprite's processes, from its pids cgroup (works for crun and runc). */
function spritePids(d: TestDaemon, spriteId: string): number[] {
  for (const dir of [
    join('/sys/fs/cgroup/pids', `sprites-${d.instanceId}`, spriteId),
    join('/sys/fs/cgroup', `sprites-${d.instanceId}`, spriteId),
  ]) {
    const procs = join(dir, 'cgroup.procs');
    if (existsSync(procs)) return readFileSync(procs, 'utf8').split('\n').filter(Boolean).map(Number);
  }
  return [];
}

function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
  } catch {
    return '';
  }
}

test('storage and runtime hardening: console, subvolumes, host users, restore, dead agents', async (t) => {
  const d = await startTestDaemon(t);
  // ONLY_SUB=a,b runs only the subtests whose titles contain one of them (for debugging).
  const only = process.env.ONLY_SUB;
  const sub = (title: string, fn: () => Promise<void>) =>
    t.test(title, { skip: only !== undefined && !only.split(',').some((o) => title.includes(o)) }, fn);

  await sub("a sprite's console output costs the host at most a bounded log file", async () => {
    const s = await d.createSprite('console');
    const log = join(d.dataDir, 'run', s.id, 'console.log');
    const r = await d.sh('console', 'head -c 64M /dev/zero > /proc/1/fd/1; echo done');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'done\n');
    const size = statSync(log).size;
    assert.ok(size <= 1.1 * 2 ** 20, `console.log holds ${size} bytes after 64 MiB of output`);
    // The sprite still serves and its console still takes output.
    assert.equal((await d.exec('console', ['echo', 'ok'])).stdout, 'ok\n');
    await d.api('DELETE', '/v1/sprites/console');
  });

  await sub('sprites cannot make btrfs subvolumes or snapshots, as user or root', async () => {
    await d.createSprite('subvols');
    const script = `
import errno, fcntl, os, struct
fd = os.open('/home/sprite', os.O_RDONLY)
# Mutable buffers: fcntl.ioctl copies at most 1024 bytes of an immutable one.
v1 = lambda name: bytearray(struct.pack('q4088s', fd, name))
v2 = lambda name: bytearray(struct.pack('qQQ32s4040s', fd, 0, 0, b'', name))
for label, req, arg in (('subvol', 0x5000940e, v1(b'sv1')), ('subvol-v2', 0x50009418, v2(b'sv2')),
                        ('snap', 0x50009401, v1(b'sn1')), ('snap-v2', 0x50009417, v2(b'sn2'))):
    try:
        fcntl.ioctl(fd, req, arg)
        print(label, 'made')
    except OSError as e:
        print(label, errno.errorcode[e.errno])
`;
    for (const argv of [
      ['python3', '-c', script],
      ['sudo', 'python3', '-c', script],
    ]) {
      const r = await d.exec('subvols', argv);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, 'subvol EPERM\nsubvol-v2 EPERM\nsnap EPERM\nsnap-v2 EPERM\n', `${argv[0]}: ${r.stdout}`);
    }
    await d.api('DELETE', '/v1/sprites/subvols');
  });

  await sub(
    'volumes holding subvolumes (made before the rule) are deleted with them, after restore and delete',
    async () => {
      const s = await d.createSprite('nested');
      const vol = join(pool(d), 'volumes', s.id);
      const made = (dir: string) => {
        execFileSync('btrfs', ['subvolume', 'create', dir], { stdio: 'ignore' });
        return rootId(dir);
      };
      const first = [made(join(vol, 'home/sprite/inner')), made(join(vol, 'home/sprite/inner/deeper'))];
      await checkpoint(d, 'nested');
      // Restore replaces the volume; the replaced one, with its subvolumes, must go.
      const lines = await ndjson(d, '/v1/sprites/nested/checkpoints/v0/restore');
      assert.equal(lines.at(-1)?.type, 'complete', JSON.stringify(lines));
      const second = [made(join(vol, 'home/sprite/again'))];
      assert.equal((await d.exec('nested', ['echo', 'ok'])).stdout, 'ok\n');
      assert.equal((await d.api('DELETE', '/v1/sprites/nested')).status, 204);
      await pollUntil(() => !subvolumes(d).some((p) => p.includes(s.id)), 30_000, "the sprite's subvolumes to go");
      const left = qgroups(d);
      for (const g of [...first, ...second]) assert.ok(!left.has(g), `quota group ${g} of a nested subvolume is left`);
    },
  );

  await sub("host users other than root cannot read a sprite's files", async () => {
    const s = await d.createSprite('private');
    assert.equal(
      (await d.exec('private', ['sh', '-c', 'echo top-secret > /home/sprite/secret && chmod 644 /home/sprite/secret']))
        .code,
      0,
    );
    await checkpoint(d, 'private');
    const paths = [
      join(d.dataDir, 'run', s.id, 'rootfs/home/sprite/secret'),
      join(d.dataDir, 'run', s.id, 'checkpoints/v0/home/sprite/secret'),
      join(pool(d), 'volumes', s.id, 'home/sprite/secret'),
      join(pool(d), 'checkpoints', s.id, 'v0/home/sprite/secret'),
    ];
    for (const path of paths) {
      assert.equal(readFileSync(path, 'utf8'), 'top-secret\n', `root reads ${path}`);
      const r = spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', 'cat', path], {
        encoding: 'utf8',
      });
      assert.notEqual(r.status, 0, `nobody read ${path}`);
      assert.ok(!r.stdout.includes('top-secret'), `nobody read ${path}`);
    }
    for (const dir of [join(d.dataDir, 'run', s.id), pool(d)]) {
      const r = spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', 'ls', dir], {
        encoding: 'utf8',
      });
      assert.notEqual(r.status, 0, `nobody listed ${dir}: ${r.stdout}`);
    }
    // The sprite itself is unaffected, also after a restart on its run dir.
    assert.equal((await d.exec('private', ['cat', '/home/sprite/secret'])).stdout, 'top-secret\n');
    await d.api('DELETE', '/v1/sprites/private');
  });

  await sub('a restore whose checkpoint cannot boot leaves the sprite on its old disk, nothing leaked', async () => {
    const s = await d.createSprite('undo');
    assert.equal((await d.exec('undo', ['sh', '-c', 'echo before > /home/sprite/marker'])).code, 0);
    // A checkpoint that cannot boot: /etc is a file, so /etc/hosts cannot be mounted.
    assert.equal((await d.sh('undo', 'mv /etc /etc.away && : > /etc')).code, 0);
    const bad = await checkpoint(d, 'undo');
    const vol = join(pool(d), 'volumes', s.id);
    execFileSync('sh', ['-c', `rm ${vol}/etc && mv ${vol}/etc.away ${vol}/etc`]);
    assert.equal((await d.exec('undo', ['sh', '-c', 'echo after > /home/sprite/marker'])).code, 0);
    const groupsBefore = qgroups(d);

    // A restore that fails within a second answers with its status and an APIError body
    // (503 host_error: the runtime could not boot it; ADR 0024); a slower one in-band.
    const res = await fetch(`${d.url}/v1/sprites/undo/checkpoints/${bad}/restore`, {
      method: 'POST',
      headers: { authorization: `Bearer ${d.adminToken}` },
    });
    const text = await res.text();
    if (res.status === 200)
      assert.equal((JSON.parse(text.trim().split('\n').at(-1)!) as StreamLine).type, 'error', text);
    else {
      assert.equal(res.status, 503, text);
      assert.equal((JSON.parse(text) as { error: string }).error, 'host_error', text);
    }

    const r = await d.exec('undo', ['cat', '/home/sprite/marker']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'after\n');
    const info = await d.api<{ status: string }>('GET', '/v1/sprites/undo');
    assert.equal(info.body.status, 'running');
    const mine = readdirSync(join(pool(d), 'volumes')).filter((n) => n.includes(s.id));
    assert.deepEqual(mine, [s.id]);
    // The auto checkpoint taken before the restore is the only new quota group.
    const grown = [...qgroups(d)].filter((g) => !groupsBefore.has(g));
    assert.ok(grown.length <= 1, `new quota groups after a failed restore: ${grown.join(',')}`);
    await d.api('DELETE', '/v1/sprites/undo');
  });

  await sub(
    'the agent outlives user commands under OOM; a killed agent is noticed and the next exec boots the sprite',
    async () => {
      const s = await d.createSprite('oom');
      const pids = spritePids(d, s.id);
      const agent = pids.find((p) => cmdline(p).includes('agent.js'));
      const init = pids.find((p) => cmdline(p).includes('tini'));
      assert.ok(agent && init, `agent and tini among ${pids.map(cmdline).join(',')}`);
      const agentScore = Number(readFileSync(`/proc/${agent}/oom_score_adj`, 'utf8'));
      const userScore = Number((await d.exec('oom', ['cat', '/proc/self/oom_score_adj'])).stdout);
      assert.ok(userScore > agentScore, `user command ${userScore} vs agent ${agentScore}`);

      process.kill(agent, 'SIGKILL');
      await pollUntil(
        () => !existsSync(`/proc/${init}/stat`) || readFileSync(`/proc/${init}/stat`, 'utf8').includes(') Z '),
        10_000,
        'tini to exit',
      );
      const started = Date.now();
      const r = await d.exec('oom', ['echo', 'alive']);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, 'alive\n');
      assert.ok(Date.now() - started < 15_000);
      await d.api('DELETE', '/v1/sprites/oom');
    },
  );
});
