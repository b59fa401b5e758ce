import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startTestDaemon } from '../helpers/daemon.js';

test("a fork bomb, a memory hog and a disk filler hit their own sprite's limits", async (t) => {
  const d = await startTestDaemon(t);
  await d.createSprite('victim', { ram_mb: 256, storage_gb: 1 });
  await d.createSprite('bystander', { ram_mb: 256, storage_gb: 1 });
  const healthy = async () => {
    const r = await d.exec('bystander', ['sh', '-c', 'echo ok > /home/sprite/alive && cat /home/sprite/alive']);
    assert.equal(r.stdout, 'ok\n', 'the other sprite keeps working');
    const list = await d.api('GET', '/v1/sprites');
    assert.equal(list.status, 200, 'the daemon keeps serving');
  };

  await t.test('memory: the hog is killed at the sprite limit', async () => {
    const r = await d.exec('victim', ['python3', '-c', 'b = bytearray(1024 * 1024 * 1024); print("allocated")']);
    assert.equal(r.code, 137, `killed by the OOM killer (got ${r.code}: ${r.stdout} ${r.stderr})`);
    assert.doesNotMatch(r.stdout, /allocated/);
    await healthy();
  });

  await t.test('pids: a fork bomb runs out of processes', async () => {
    const script = [
      'import os, time',
      'n = 0',
      'try:',
      '    while n < 5000:',
      '        if os.fork() == 0:',
      '            time.sleep(30); os._exit(0)',
      '        n += 1',
      'except OSError as e:',
      '    print("stopped after", n, e.strerror, flush=True)',
      'os.killpg(0, 9)',
    ].join('\n');
    const r = await d.exec('victim', ['setsid', '-w', 'python3', '-c', script]);
    const m = /stopped after (\d+) (.*)/.exec(r.stdout);
    assert.ok(m, `fork failed before 5000 processes: ${r.stdout} ${r.stderr}`);
    assert.ok(Number(m[1]) < 300, `the pids limit (256) capped it at ${m[1]}`);
    await healthy();
  });

  await t.test('disk: a filler gets EDQUOT at the quota', async () => {
    const r = await d.exec('victim', ['sh', '-c', 'head -c 1500M /dev/urandom > /home/sprite/fill; echo rc=$?']);
    assert.match(r.stderr, /Disk quota exceeded/, r.stderr);
    const size = await d.exec('victim', ['stat', '-c', '%s', '/home/sprite/fill']);
    assert.ok(Number(size.stdout) < 1024 ** 3, `the file stopped below 1 GiB (${size.stdout})`);
    await d.exec('victim', ['rm', '-f', '/home/sprite/fill']);
    await healthy();
  });
});
