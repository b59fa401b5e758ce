import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import { collectLeftovers } from '../helpers/leftovers.js';
import { pollUntil } from '../helpers/ws.js';

interface ErrorBody {
  error: string;
  message: string;
  code?: string;
  request_id?: string;
}

/**
 * Wrapper scripts named like the host programs the daemon runs by PATH. Each one fails
 * (exit 1, a complaint on stderr) while its trigger file exists and its arguments match the
 * extended regex in it (empty: any), and otherwise becomes the real program.
 */
class FaultyPrograms {
  readonly dir = mkdtempSync('/tmp/spr-faults-');

  constructor(programs: string[]) {
    for (const name of programs) {
      const real = execFileSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).trim();
      assert.ok(real.startsWith('/'), `${name} is not installed`);
      const script = `#!/bin/bash
trigger='${this.trigger(name)}'
if [ -f "$trigger" ]; then
  pattern=$(cat "$trigger")
  if [ -z "$pattern" ] || [[ "$*" =~ $pattern ]]; then
    echo "injected fault in ${name} $1 $2" >&2
    exit 1
  fi
fi
exec '${real}' "$@"
`;
      writeFileSync(join(this.dir, name), script);
      chmodSync(join(this.dir, name), 0o755);
    }
  }

  private trigger(name: string): string {
    return join(this.dir, `fail-${name}`);
  }

  /** `name` fails from now on for arguments matching `pattern`. */
  fail(name: string, pattern = ''): void {
    writeFileSync(this.trigger(name), pattern);
  }

  heal(name: string): void {
    rmSync(this.trigger(name), { force: true });
  }

  get path(): string {
    return `${this.dir}:${process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin'}`;
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

function sh(script: string): string {
  return execFileSync('bash', ['-c', script], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

function poolOf(d: TestDaemon): string {
  return join(d.dataDir, 'storage', 'pool');
}

/** What the pool holds for sprites: volumes, checkpoint directories, subvolumes, level-1 quota groups. */
interface PoolState {
  volumes: string[];
  checkpoints: string[];
  autoCheckpoints: string[];
  subvolumes: string[];
  groups: string[];
}

interface State extends PoolState {
  host: string[];
  cgroups: string[];
  runDirs: string[];
  sprites: string[];
}

function poolState(d: TestDaemon): PoolState {
  const pool = poolOf(d);
  const ls = (dir: string) => (existsSync(join(pool, dir)) ? readdirSync(join(pool, dir)).sort() : []);
  const subvolumes = sh(`btrfs subvolume list ${pool}`)
    .split('\n')
    .map((l) => / path (.*)$/.exec(l)?.[1] ?? '')
    .filter((p) => p && !p.startsWith('scratch'));
  const groups = sh(`btrfs qgroup show ${pool}`)
    .split('\n')
    .map((l) => l.trim().split(/\s+/)[0] ?? '')
    .filter((g) => g.startsWith('1/'));
  return {
    volumes: ls('volumes'),
    checkpoints: ls('checkpoints'),
    autoCheckpoints: ls('auto-checkpoints'),
    subvolumes: subvolumes.sort(),
    groups: groups.sort(),
  };
}

/** Everything a request could leave: host resources (leftovers helper, sprite cgroups, run dirs), pool, registry. */
async function snapshot(d: TestDaemon): Promise<State> {
  const cgroups = readdirSync('/sys/fs/cgroup').flatMap((h) => {
    const dir = join('/sys/fs/cgroup', h, `sprites-${d.instanceId}`);
    return existsSync(dir)
      ? readdirSync(dir, { withFileTypes: true })
          .filter((e) => e.isDirectory())
          .map((e) => `${h}/${e.name}`)
      : [];
  });
  const runDirs = existsSync(join(d.dataDir, 'run')) ? readdirSync(join(d.dataDir, 'run')).sort() : [];
  const list = await d.api<{ sprites: { name: string; status: string }[] }>('GET', '/v1/sprites');
  return {
    // Which processes hold the pool's loop device varies with what else runs on the host.
    host: collectLeftovers(d.instanceId, d.dataDir)
      .map((l) => l.replace(/ \(mounted in .*$/, ''))
      .sort(),
    cgroups: cgroups.sort(),
    runDirs,
    sprites: list.body.sprites.map((s) => `${s.name} ${s.status}`).sort(),
    ...poolState(d),
  };
}

/** Waits for background deletes to settle, then asserts nothing differs from `before`. */
async function assertUnchanged(d: TestDaemon, before: State, what: string): Promise<void> {
  let now: State | null = null;
  await pollUntil(
    async () => {
      now = await snapshot(d);
      return JSON.stringify(now) === JSON.stringify(before);
    },
    15_000,
    what,
  ).catch(() => assert.deepEqual(now, before, `${what} left something behind`));
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

async function ndjsonPost(
  d: TestDaemon,
  path: string,
  body?: unknown,
): Promise<{ status: number; text: string; contentType: string | null }> {
  const res = await fetch(`${d.url}${path}`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${d.adminToken}`,
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    body: body !== undefined ? JSON.stringify(body) : undefined,
  });
  return { status: res.status, text: await res.text(), contentType: res.headers.get('content-type') };
}

async function takeCheckpoint(d: TestDaemon, sprite: string): Promise<string> {
  const r = await ndjsonPost(d, `/v1/sprites/${sprite}/checkpoint`, {});
  assert.equal(r.status, 200, r.text);
  const last = JSON.parse(r.text.trim().split('\n').at(-1)!) as { type: string; data?: string };
  assert.equal(last.type, 'complete', r.text);
  return /Checkpoint (\S+) created/.exec(last.data ?? '')![1]!;
}

/** 507 insufficient_storage with a JSON body that says the pool is full. */
function assertPoolFull(res: { status: number; text: string }, what: string): void {
  assert.equal(res.status, 507, `${what}: ${res.text}`);
  const body = JSON.parse(res.text) as ErrorBody;
  assert.equal(body.error, 'insufficient_storage', what);
  assert.match(body.message, /storage pool is full/, what);
}

/** Takes every byte of data space the pool has left (preallocated, so compression cannot shrink it). */
function fillData(pool: string): void {
  sh(`set -e; mkdir -p ${pool}/scratch; i=0
for sz in 1G 256M 64M 16M 4M 1M 256K 64K 16K 4K; do
  while fallocate -l $sz ${pool}/scratch/f$i 2>/dev/null; do i=$((i+1)); done
  rm -f ${pool}/scratch/f$i
done
sync -f ${pool}`);
}

/**
 * Takes the metadata space too: files with large extended attributes (kept in metadata)
 * until ENOSPC, then snapshots (metadata only) until btrfs refuses one.
 */
function fillMetadata(pool: string): number {
  sh(`btrfs subvolume create ${pool}/scratch/sv >/dev/null 2>&1 || true; mkdir -p ${pool}/scratch/meta 2>/dev/null || true
python3 - ${pool}/scratch/meta <<'EOF'
import os, sys
d, val, n = sys.argv[1], os.urandom(3800), 0
try:
    while True:
        p = f"{d}/{n}"
        os.close(os.open(p, os.O_CREAT | os.O_WRONLY, 0o600))
        for k in range(3):
            os.setxattr(p, f"user.k{k}", val)
        n += 1
except OSError:
    pass
EOF`);
  let made = 0;
  while (made < 1000) {
    try {
      execFileSync('btrfs', ['subvolume', 'snapshot', `${pool}/scratch/sv`, `${pool}/scratch/s${made}`], {
        stdio: 'pipe',
      });
      made++;
    } catch (e) {
      assert.match(String((e as { stderr?: Buffer }).stderr), /No space left on device/);
      return made;
    }
  }
  throw new Error('btrfs kept making snapshots: the metadata space did not fill');
}

function freeScratch(pool: string): void {
  sh(
    `cd ${pool}/scratch && for s in s* sv; do [ -d "$s" ] && btrfs subvolume delete "$s" >/dev/null; done; rm -rf ${pool}/scratch; btrfs filesystem sync ${pool}`,
  );
}

test('host faults: a failing host command fails one request and unwinds it; a full pool answers 507 and corrupts nothing', async (t) => {
  const faulty = new FaultyPrograms(['ip', 'nft', 'crun']);
  t.after(() => faulty.remove());
  // No spares and no pre-booted sprites: they would hide faults on the create path.
  const d = await startTestDaemon(t, {
    runtime: 'crun',
    env: { PATH: faulty.path, SPRITES_SPARES: '0', SPRITES_PREBOOTED: '0' },
    extraArgs: ['--pool-size', '2G'],
  });
  const pool = poolOf(d);
  // The host with this daemon and no sprite: what every undone create must come back to.
  const empty = await snapshot(d);
  t.after(() => {
    faulty.heal('ip');
    faulty.heal('nft');
    faulty.heal('crun');
    if (existsSync(join(pool, 'scratch'))) freeScratch(pool);
  });

  await t.test(
    'a failing ip or crun fails the create with 503 host_error, undone in full; the same create then works',
    async () => {
      const cases: { program: string; pattern: string; says: RegExp }[] = [
        {
          program: 'ip',
          pattern: '^netns add',
          says: /^a host operation failed: create sprite faulty: ip netns add exited 1: injected fault in ip netns add\. /,
        },
        {
          program: 'ip',
          pattern: '^-n ',
          says: /: create sprite faulty: create network namespace spr-\S+: ip exited 1: injected fault in ip -n/,
        },
        {
          program: 'crun',
          pattern: '^run ',
          says: /: create sprite faulty: crun could not start container spr-\S+: .*injected fault in crun run/,
        },
      ];
      for (const c of cases) {
        faulty.fail(c.program, c.pattern);
        const res = await d.api<ErrorBody>('POST', '/v1/sprites', {
          name: 'faulty',
          config: { ram_mb: 256, storage_gb: 1 },
        });
        faulty.heal(c.program);
        assert.equal(res.status, 503, res.text);
        assert.equal(res.body.error, 'host_error');
        assert.match(res.body.message, /^a host operation failed: /);
        assert.match(res.body.message, c.says);
        assert.ok(res.body.request_id, 'the answer carries the request id the log has');
        await assertUnchanged(d, empty, `a create failing in ${c.program} ${c.pattern}`);
      }
      await d.createSprite('faulty', { ram_mb: 256, storage_gb: 1 });
      assert.equal((await d.exec('faulty', ['echo', 'up'])).stdout, 'up\n');
    },
  );

  await t.test('a failing nft fails a policy change with 503, and the sprite keeps the policy it had', async () => {
    const chains = () => sh(`nft list table inet sprites_${d.instanceId}`).match(/chain policy_\d+/g) ?? [];
    const shown = async () => (await d.exec('faulty', ['cat', '/.sprite/policy/network.json'])).stdout;
    const rules = {
      rules: [
        { domain: 'example.com', action: 'allow' },
        { domain: '*', action: 'deny' },
      ],
    };

    faulty.fail('nft', '^-f');
    const refused = await d.api<ErrorBody>('POST', '/v1/sprites/faulty/policy/network', rules);
    faulty.heal('nft');
    assert.equal(refused.status, 503, refused.text);
    assert.equal(refused.body.error, 'host_error');
    assert.match(
      refused.body.message,
      /apply the network policy \(the previous one stays in force\): nft exited 1: injected fault in nft -f/,
    );
    assert.deepEqual((await d.api('GET', '/v1/sprites/faulty/policy/network')).body, { rules: [] });
    assert.deepEqual(JSON.parse(await shown()), { rules: [] });
    assert.deepEqual(chains(), []);

    assert.equal((await d.api('POST', '/v1/sprites/faulty/policy/network', rules)).status, 204);
    assert.equal(chains().length, 1);
    // Lifting it fails the same way: it stays in force, stored and shown.
    faulty.fail('nft', '^-f');
    const lift = await d.api<ErrorBody>('POST', '/v1/sprites/faulty/policy/network', { rules: [] });
    faulty.heal('nft');
    assert.equal(lift.status, 503, lift.text);
    assert.equal(chains().length, 1);
    assert.deepEqual((await d.api('GET', '/v1/sprites/faulty/policy/network')).body, rules);
    assert.deepEqual(JSON.parse(await shown()), rules);
    assert.equal((await d.api('POST', '/v1/sprites/faulty/policy/network', { rules: [] })).status, 204);
    assert.deepEqual(chains(), []);
  });

  await t.test(
    'a failing crun on a restart leaves the sprite cold with nothing held; the next request wakes it',
    async () => {
      faulty.fail('crun', '^run ');
      const res = await d.api<ErrorBody>('POST', '/v1/sprites/faulty/upgrade');
      faulty.heal('crun');
      assert.equal(res.status, 503, res.text);
      assert.equal(res.body.error, 'host_error');
      assert.match(res.body.message, /crun could not start container/);
      const now = await snapshot(d);
      assert.deepEqual(now.sprites, ['faulty cold']);
      // The instance's parent cgroups stay once a sprite ran; each sprite's own are in `cgroups`.
      const hostOf = (s: State) => s.host.filter((l) => !l.startsWith('cgroup '));
      assert.deepEqual(
        [hostOf(now), now.cgroups, now.runDirs],
        [hostOf(empty), empty.cgroups, empty.runDirs],
        'the failed restart holds nothing on the host',
      );
      // A wake through the same failure: 503 host_error on the forwarded request too.
      faulty.fail('crun', '^run ');
      const wake = await d.api<ErrorBody>('GET', '/v1/sprites/faulty/fs/list?path=/');
      faulty.heal('crun');
      assert.equal(wake.status, 503, wake.text);
      assert.equal(wake.body.error, 'host_error');
      assert.equal((await d.exec('faulty', ['echo', 'awake'])).stdout, 'awake\n');
      assert.equal((await d.api('DELETE', '/v1/sprites/faulty')).status, 204);
      // Its disk goes in the background: wait until the pool is as it was before any sprite.
      const poolPart = (p: PoolState) =>
        JSON.stringify([p.volumes, p.checkpoints, p.autoCheckpoints, p.subvolumes, p.groups]);
      await pollUntil(
        () => poolPart(poolState(d)) === poolPart(empty),
        15_000,
        'the deleted sprite gone from the pool',
      );
    },
  );

  await t.test(
    'a full pool: 507 for creates, checkpoints, restores and API writes, ENOSPC inside, nothing corrupted; all works once freed',
    async () => {
      await d.createSprite('keeper', { ram_mb: 256, storage_gb: 1 });
      const kept = randomBytes(1024 * 1024);
      const put = await d.api(
        'PUT',
        '/v1/sprites/keeper/fs/write?path=/home/sprite/kept.bin&mkdirParents=true',
        undefined,
        { rawBody: kept, headers: { 'content-type': 'application/octet-stream' } },
      );
      assert.equal(put.status, 200, put.text);
      const before = await takeCheckpoint(d, 'keeper');
      // A restore before the pool fills (its auto checkpoint makes the sprite's folder of
      // them), so the one on a full pool below meets btrfs refusing the snapshot itself.
      const early = await ndjsonPost(d, `/v1/sprites/keeper/checkpoints/${before}/restore`);
      assert.match(early.text, /"type":"complete"/);
      await d.createSprite('victim', { ram_mb: 256, storage_gb: 1 });
      const state = await snapshot(d);
      const checkpointsBefore = (await d.api<unknown[]>('GET', '/v1/sprites/keeper/checkpoints?includeAuto=true')).body;

      fillData(pool);
      assert.equal(sh(`df -B1 --output=avail ${pool} | tail -1`).trim(), '0');

      assertPoolFull(
        await d.api('POST', '/v1/sprites', { name: 'more', config: { ram_mb: 256, storage_gb: 1 } }),
        'create',
      );
      assertPoolFull(await ndjsonPost(d, '/v1/sprites/keeper/checkpoint', {}), 'checkpoint');
      const write = await d.api<ErrorBody>(
        'PUT',
        '/v1/sprites/keeper/fs/write?path=/home/sprite/new.bin&mkdirParents=true',
        undefined,
        { rawBody: randomBytes(1024 * 1024), headers: { 'content-type': 'application/octet-stream' } },
      );
      assert.equal(write.status, 507, write.text);
      assert.equal(write.body.code, 'ENOSPC');
      assert.match(write.body.error, /host's storage pool is full, not this sprite's quota/);
      const dd = await d.exec('keeper', ['sh', '-c', 'head -c 1048576 /dev/urandom > /home/sprite/dd.bin']);
      assert.notEqual(dd.code, 0);
      assert.match(dd.stderr, /No space left on device/);
      // /tmp is the sprite's memory, not the pool: it still takes writes.
      assert.equal(
        (await d.exec('keeper', ['sh', '-c', 'head -c 65536 /dev/urandom > /tmp/t && echo ok'])).stdout,
        'ok\n',
      );

      // Metadata full as well: now btrfs itself refuses snapshots, and a restore (never refused
      // early: it frees as much as it takes) meets that and answers 507 before its stream starts.
      const snapshotsMade = fillMetadata(pool);
      t.diagnostic(`metadata filled; btrfs made ${snapshotsMade} more snapshots before refusing`);
      const restore = await ndjsonPost(d, `/v1/sprites/keeper/checkpoints/${before}/restore`);
      assertPoolFull(restore, 'restore on a pool without metadata space');
      assert.match(restore.contentType ?? '', /application\/json/);
      assertPoolFull(
        await d.api('POST', '/v1/sprites', { name: 'more', config: { ram_mb: 256, storage_gb: 1 } }),
        'create with metadata full',
      );
      assert.deepEqual((await d.api('GET', '/v1/sprites/keeper/checkpoints?includeAuto=true')).body, checkpointsBefore);
      assert.deepEqual(await snapshot(d), state, 'a refused operation changed the pool or the host');

      // Deletes work on a pool that is full to the last byte of data and metadata.
      const del = await d.api('DELETE', '/v1/sprites/victim');
      assert.equal(del.status, 204, del.text);

      freeScratch(pool);
      // The sprite ran on; what it had is intact; the checkpoint taken before restores.
      assert.equal((await d.exec('keeper', ['echo', 'alive'])).stdout, 'alive\n');
      const read = async () =>
        sha(
          Buffer.from(
            await (
              await fetch(`${d.url}/v1/sprites/keeper/fs/read?path=/home/sprite/kept.bin`, {
                headers: { authorization: `Bearer ${d.adminToken}` },
              })
            ).arrayBuffer(),
          ),
        );
      assert.equal(await read(), sha(kept));
      assert.equal(
        (await d.exec('keeper', ['sh', '-c', 'head -c 1048576 /dev/urandom > /home/sprite/dd.bin && echo written']))
          .stdout,
        'written\n',
      );
      const restored = await ndjsonPost(d, `/v1/sprites/keeper/checkpoints/${before}/restore`);
      assert.equal(restored.status, 200, restored.text);
      assert.match(restored.text, /"type":"complete"/);
      assert.equal(await read(), sha(kept));
      assert.equal(
        (await d.exec('keeper', ['test', '-e', '/home/sprite/dd.bin'])).code,
        1,
        'the restore brought back the disk as checkpointed',
      );
      await takeCheckpoint(d, 'keeper');
      await d.createSprite('more', { ram_mb: 256, storage_gb: 1 });
      assert.equal((await d.api('DELETE', '/v1/sprites/more')).status, 204);
      // Nothing of the refused operations or of the deleted sprites is left.
      await pollUntil(
        async () => {
          const now = await snapshot(d);
          return (
            now.volumes.length === 1 &&
            now.groups.length === 1 &&
            now.runDirs.length === 1 &&
            now.checkpoints.length <= 1 &&
            now.autoCheckpoints.length <= 1
          );
        },
        15_000,
        'only keeper left in the pool',
      ).catch(async () => assert.fail(JSON.stringify(await snapshot(d))));
    },
  );
});
