import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, readlinkSync } from 'node:fs';
import { test } from 'node:test';
import { startTestDaemon } from '../helpers/daemon.js';

const NAMESPACES = ['pid', 'mnt', 'net', 'uts', 'ipc', 'cgroup', 'user'];

function containerPid(runtime: string, id: string): number {
  const state = JSON.parse(execFileSync(runtime === 'crun' ? 'crun' : 'runc', ['state', id], { encoding: 'utf8' })) as {
    pid: number;
  };
  return state.pid;
}

test('a created sprite runs in its own namespaces, as an unprivileged uid, named after the sprite', async (t) => {
  const d = await startTestDaemon(t);
  const started = Date.now();
  const sprite = await d.createSprite('ns-check');
  t.diagnostic(`create → running in ${Date.now() - started} ms`);
  assert.equal(sprite.status, 'running');

  // The container's init, seen from the host.
  const pid = containerPid(d.runtime, `spr-${d.instanceId}-${sprite.id}`);
  assert.ok(pid > 1, 'the container has an init process on the host');
  for (const ns of NAMESPACES) {
    const host = readlinkSync(`/proc/self/ns/${ns}`);
    const sprites = readlinkSync(`/proc/${pid}/ns/${ns}`);
    assert.notEqual(sprites, host, `${ns} namespace must differ from the host's`);
  }
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const hostUid = Number(/^Uid:\s+(\d+)/m.exec(status)?.[1]);
  assert.ok(hostUid >= 65536, `root in the sprite is host uid ${hostUid}, not a host user`);

  const inside = await d.sh('ns-check', 'id -u; cat /proc/self/uid_map; hostname; cat /proc/1/cmdline | tr "\\0" " "');
  assert.equal(inside.code, 0, inside.stderr);
  const [uid, uidMap, hostname, pid1] = inside.stdout.trim().split('\n');
  assert.equal(uid, '0', 'sudo gives root inside the sprite');
  assert.deepEqual(uidMap!.trim().split(/\s+/).map(Number), [0, hostUid, 65536]);
  assert.equal(hostname, 'ns-check');
  assert.match(pid1!, /^\/\.sprite\/bin\/tini /, 'tini is PID 1');

  const user = await d.exec('ns-check', ['sh', '-c', 'id -un; pwd; echo $HOME; tty || true; df -P /tmp | tail -1']);
  assert.equal(user.code, 0);
  const [name, pwd, home, tty, tmp] = user.stdout.trim().split('\n');
  assert.equal(name, 'sprite');
  assert.equal(pwd, '/home/sprite');
  assert.equal(home, '/home/sprite');
  assert.equal(tty, 'not a tty');
  assert.match(tmp!, /^tmpfs /, '/tmp is a tmpfs');
  const sudo = await d.exec('ns-check', ['sudo', '-n', 'true']);
  assert.equal(sudo.code, 0, `passwordless sudo: ${sudo.stderr}`);
});
