import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startTestDaemon } from '../helpers/daemon.js';

test('files survive daemon restart, kill -9 of the daemon, and stop/start', async (t) => {
  const d = await startTestDaemon(t);
  await d.createSprite('keeper');
  const write = await d.exec('keeper', [
    'sh',
    '-c',
    'echo first > /home/sprite/note && sudo sh -c "echo rootfile > /etc/keeper" && sync',
  ]);
  assert.equal(write.code, 0, write.stderr);
  // When PID 1 of the sprite started (clock ticks since host boot): changes only if it reboots.
  const bootId = async () => {
    const r = await d.exec('keeper', ['sh', '-c', "awk '{print $22}' /proc/1/stat"]);
    assert.match(r.stdout, /^\d+\n$/);
    return r.stdout.trim();
  };
  const before = await bootId();

  await t.test('graceful restart: the sprite keeps running (live restore)', async () => {
    // A command in flight must not hold the daemon up; the command's client sees the end.
    const inFlight = d.exec('keeper', ['sleep', '300']).then(
      () => 'exited',
      () => 'closed',
    );
    await new Promise((r) => setTimeout(r, 300));
    const t0 = Date.now();
    await d.restart();
    assert.ok(Date.now() - t0 < 15_000, `restart took ${Date.now() - t0} ms with an exec in flight`);
    assert.equal(await inFlight, 'closed');
    const s = await d.api<{ status: string }>('GET', '/v1/sprites/keeper');
    assert.equal(s.body.status, 'running');
    assert.equal(await bootId(), before, 'the same container is still there');
    const r = await d.exec('keeper', ['cat', '/home/sprite/note', '/etc/keeper']);
    assert.equal(r.stdout, 'first\nrootfile\n');
  });

  await t.test('kill -9: the next start re-adopts the sprite', async () => {
    await d.exec('keeper', ['sh', '-c', 'echo second >> /home/sprite/note']);
    await d.restart({ kill9: true });
    assert.equal(await bootId(), before);
    const r = await d.exec('keeper', ['cat', '/home/sprite/note']);
    assert.equal(r.stdout, 'first\nsecond\n');
  });

  await t.test('stop/start: the disk survives, the next request boots the sprite', async () => {
    await d.exec('keeper', ['sh', '-c', 'echo third >> /home/sprite/note; echo gone > /tmp/volatile']);
    await d.restart({ stopSprites: true });
    const cold = await d.api<{ status: string }>('GET', '/v1/sprites/keeper');
    assert.equal(cold.body.status, 'cold');
    const r = await d.exec('keeper', ['sh', '-c', 'cat /home/sprite/note /etc/keeper; cat /tmp/volatile 2>&1 || true']);
    assert.equal(
      r.stdout,
      'first\nsecond\nthird\nrootfile\ncat: /tmp/volatile: No such file or directory\n',
      '/tmp is not persisted',
    );
    const warm = await d.api<{ status: string }>('GET', '/v1/sprites/keeper');
    assert.equal(warm.body.status, 'running');
    assert.notEqual(await bootId(), before, 'it booted again');
  });

  await t.test('a sprite whose container died while the daemon was down is restarted on demand', async () => {
    const s = await d.api<{ id: string }>('GET', '/v1/sprites/keeper');
    await d.stop('SIGKILL');
    const { execFileSync } = await import('node:child_process');
    const runtime = d.runtime;
    execFileSync(runtime, ['kill', `spr-${d.instanceId}-${s.body.id}`, 'KILL'], { stdio: 'ignore' });
    await d.start();
    const after = await d.api<{ status: string }>('GET', '/v1/sprites/keeper');
    assert.equal(after.body.status, 'cold', 'a dead container is not re-adopted');
    const r = await d.exec('keeper', ['cat', '/home/sprite/note']);
    assert.equal(r.stdout, 'first\nsecond\nthird\n');
  });
});
