import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { startTestDaemon } from '../helpers/daemon.js';

test('a create served by a pre-booted sprite gets its own name, environment, limits and quota', async (t) => {
  const d = await startTestDaemon(t, { env: { SPRITES_PREBOOTED: '2' } });
  // Two sprites boot ahead of time once the daemon is up.
  await d.waitForLog(/"event":"sprite\.start".*"outcome":"ok"/, 2);
  const created = await d.createSprite('pre-one', { ram_mb: 256, cpus: 1, storage_gb: 1 });
  const events = await d.waitForLog(/"event":"sprite\.create".*"name":"pre-one"/);
  assert.match(events[0]!, /"prebooted":true/, 'the create used a pre-booted sprite');

  const inside = await d.exec('pre-one', ['sh', '-c', 'hostname; echo "$SPRITE_NAME"; grep -c pre-one /etc/hosts']);
  assert.equal(inside.stdout, 'pre-one\npre-one\n2\n');

  const memory = readFileSync(
    `/sys/fs/cgroup/memory/sprites-${d.instanceId}/${created.id}/memory.limit_in_bytes`,
    'utf8',
  ).trim();
  assert.equal(Number(memory), 256 * 2 ** 20, 'the memory limit is the sprite config, not the pre-boot default');
  const hog = await d.exec('pre-one', ['python3', '-c', 'b = bytearray(600 * 1024 * 1024); print("allocated")']);
  assert.equal(hog.code, 137);
  const fill = await d.exec('pre-one', ['sh', '-c', 'head -c 1500M /dev/urandom > /home/sprite/fill']);
  assert.match(fill.stderr, /Disk quota exceeded/);
});

test('the environment given at create reaches commands in a pre-booted sprite; an empty pool falls back', async (t) => {
  const d = await startTestDaemon(t, { env: { SPRITES_PREBOOTED: '1' } });
  await d.waitForLog(/"event":"sprite\.start".*"outcome":"ok"/, 1);
  const first = await d.api<{ status: string }>('POST', '/v1/sprites', {
    name: 'env-one',
    config: { ram_mb: 256, storage_gb: 1 },
    environment: { GREETING: 'hi there' },
  });
  assert.equal(first.status, 201);
  // The pool had one: the next create boots its own, with the same result.
  const second = await d.api<{ status: string }>('POST', '/v1/sprites', {
    name: 'env-two',
    config: { ram_mb: 256, storage_gb: 1 },
    environment: { GREETING: 'hello' },
  });
  assert.equal(second.status, 201);
  const events = await d.waitForLog(/"event":"sprite\.create".*"name":"env-/, 2);
  assert.equal(events.filter((e) => e.includes('"prebooted":true')).length, 1);
  assert.equal((await d.exec('env-one', ['sh', '-c', 'echo "$GREETING"'])).stdout, 'hi there\n');
  assert.equal((await d.exec('env-two', ['sh', '-c', 'echo "$GREETING"'])).stdout, 'hello\n');
  assert.equal((await d.exec('env-one', ['hostname'])).stdout, 'env-one\n');
});
