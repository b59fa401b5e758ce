import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { test } from 'node:test';
import { startTestDaemon } from '../helpers/daemon.js';

test('from inside a sprite the host, the daemon and other sprites are out of reach', async (t) => {
  // Listening on all addresses: only the sprite's network policy may stand between it and the API.
  const d = await startTestDaemon(t, { listen: '0.0.0.0:0' });
  const port = new URL(d.url).port;
  const marker = mkdtempSync('/tmp/spr-marker-');
  t.after(() => rmSync(marker, { recursive: true, force: true }));
  writeFileSync(`${marker}/secret`, 'host secret');
  await d.createSprite('iso-a');
  await d.createSprite('iso-b');

  await t.test('host processes are invisible', async () => {
    const r = await d.sh('iso-a', 'ps -eo pid=,comm=');
    assert.equal(r.code, 0, r.stderr);
    // The other sprite runs a distinctive sleeper; the host runs the daemon and the test runner.
    const b = await d.exec('iso-b', ['sh', '-c', 'nohup sleep 4242 >/dev/null 2>&1 & echo started']);
    assert.match(b.stdout, /started/);
    const again = await d.sh('iso-a', 'ps -eo args=');
    assert.doesNotMatch(again.stdout, /sleep 4242|spritesd|main\.js|--test/);
    assert.ok(r.stdout.split('\n').length < 12, `only the sprite's own processes: ${r.stdout}`);
    const pids = r.stdout
      .trim()
      .split('\n')
      .map((l) => Number(l.trim().split(/\s+/)[0]));
    assert.ok(pids.includes(1) && !pids.includes(d.pid), 'pid namespace starts at 1 and hides the daemon');
  });

  await t.test('host files and the data dir are invisible', async () => {
    const r = await d.sh('iso-a', `cat ${marker}/secret; ls ${d.dataDir}; ls /work; cat /etc/shadow | head -1`);
    assert.doesNotMatch(r.stdout, /host secret/);
    assert.match(r.stderr, new RegExp(`${marker}/secret: No such file`));
    assert.match(r.stderr, new RegExp(`${d.dataDir}.*No such file`));
    // /etc/shadow is the sprite's own, not the host's.
    assert.match(r.stdout, /^root:/);
  });

  await t.test("another sprite's files are invisible", async () => {
    const w = await d.sh('iso-b', 'echo b-secret > /root/only-in-b && sync');
    assert.equal(w.code, 0, w.stderr);
    const r = await d.sh(
      'iso-a',
      'cat /root/only-in-b; grep -rs b-secret /root /home /etc /var /srv /opt 2>/dev/null | head -1',
    );
    assert.doesNotMatch(r.stdout, /b-secret/);
  });

  await t.test('host block devices cannot be mounted and kernel modules cannot be loaded', async () => {
    const r = await d.sh(
      'iso-a',
      [
        'ls /dev',
        'mknod /tmp/hostdisk b 254 0 && echo MKNOD-OK',
        'mkdir -p /mnt/x; mount /dev/vda /mnt/x && echo MOUNT-OK',
        'mount -t ext4 /tmp/hostdisk /mnt/x && echo MOUNT2-OK',
        `python3 -c 'import ctypes,os; libc=ctypes.CDLL(None,use_errno=True); r=libc.syscall(313,-1,b"",0); print("finit_module", r, os.strerror(ctypes.get_errno()))'`,
        'grep CapBnd /proc/self/status',
      ].join('; '),
    );
    assert.doesNotMatch(r.stdout, /MKNOD-OK|MOUNT-OK|MOUNT2-OK/);
    assert.doesNotMatch(r.stdout, /\bvda\b/, '/dev has no host disks');
    // EPERM where the kernel supports modules, ENOSYS where it has none: never 0.
    assert.match(r.stdout, /finit_module -1 (Operation not permitted|Function not implemented)/);
    const bounding = BigInt(`0x${/CapBnd:\s+([0-9a-f]+)/.exec(r.stdout)?.[1] ?? 'ffffffffff'}`);
    const CAP_SYS_MODULE = 16n;
    const CAP_SYS_ADMIN = 21n;
    const CAP_SYS_RAWIO = 17n;
    for (const cap of [CAP_SYS_MODULE, CAP_SYS_ADMIN, CAP_SYS_RAWIO]) {
      assert.equal((bounding >> cap) & 1n, 0n, `capability ${cap} is outside the sprite's bounding set`);
    }
  });

  await t.test("the daemon's API and the other sprite's address are unreachable", async () => {
    const b = await d.sh('iso-b', "ip -4 -o addr show eth0 | awk '{print $4}' | cut -d/ -f1");
    const bIp = b.stdout.trim();
    assert.match(bIp, /^\d+\.\d+\.\d+\.\d+$/);
    // A listener in sprite b that a would hit if it could.
    const serve = await d.exec('iso-b', [
      'sh',
      '-c',
      'nohup python3 -m http.server 8080 >/dev/null 2>&1 & sleep 0.5; echo started',
    ]);
    assert.match(serve.stdout, /started/);
    const fromB = await d.exec('iso-b', [
      'curl',
      '-s',
      '-m',
      '3',
      '-o',
      '/dev/null',
      '-w',
      '%{http_code}',
      'http://127.0.0.1:8080/',
    ]);
    assert.equal(fromB.stdout, '200', 'the listener works inside its own sprite');
    const gateway = (await d.sh('iso-a', "ip route | awk '/default/ {print $3}'")).stdout.trim();
    const hostIps = (await import('node:os')).networkInterfaces();
    const hostAddress = Object.values(hostIps)
      .flat()
      .find((i) => i && i.family === 'IPv4' && !i.internal && !i.address.startsWith('10.213.'))?.address;
    const targets = [
      `http://${gateway}:${port}/v1/sprites`,
      `http://${bIp}:8080/`,
      ...(hostAddress ? [`http://${hostAddress}:${port}/v1/sprites`] : []),
    ];
    for (const target of targets) {
      const r = await d.exec('iso-a', ['curl', '-s', '-m', '3', '-o', '/dev/null', '-w', '%{http_code}', target]);
      assert.notEqual(r.code, 0, `${target} must be unreachable, got HTTP ${r.stdout}`);
      assert.equal(r.stdout, '000', `${target}`);
    }
  });
});
