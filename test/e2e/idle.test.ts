import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { startTestDaemon } from '../helpers/daemon.js';
import { execUrl, pollUntil, rawExec } from '../helpers/ws.js';

interface Info {
  id: string;
  status: string;
  last_warming_at: string | null;
}

test('quiet sprites go warm, then cold, and any request wakes them; running sessions keep them up', async (t) => {
  const d = await startTestDaemon(t, {
    env: { SPRITES_IDLE_WARM_SECONDS: '2', SPRITES_IDLE_COLD_SECONDS: '8', SPRITES_PREBOOTED: '0' },
  });
  const idle = await d.createSprite('dozy', { ram_mb: 256, storage_gb: 1 });
  await d.createSprite('busy', { ram_mb: 256, storage_gb: 1 });
  await d.exec('dozy', ['sh', '-c', 'echo kept > /home/sprite/f']);

  // busy runs a detached TTY session that prints nothing: it must not be frozen.
  let sessionId = '';
  await rawExec(
    execUrl(d.url, 'busy', [
      ['cmd', 'sleep'],
      ['cmd', '600'],
      ['tty', 'true'],
    ]),
    d.adminToken,
    (ws) => {
      ws.on('message', (data: Buffer, isBinary: boolean) => {
        if (!isBinary) {
          sessionId = (JSON.parse(data.toString()) as { session_id: string }).session_id;
          ws.terminate();
        }
      });
    },
  );
  assert.ok(sessionId);

  const info = async (name: string) => (await d.api<Info>('GET', `/v1/sprites/${name}`)).body;
  const warm = await pollUntil(
    async () => ((await info('dozy')).status === 'warm' ? await info('dozy') : null),
    20_000,
    'dozy warm',
  );
  assert.match(String(warm.last_warming_at), /^\d{4}-/);
  const freezer = readFileSync(
    `/sys/fs/cgroup/freezer/sprites-${d.instanceId}/${idle.id}/freezer.state`,
    'utf8',
  ).trim();
  assert.equal(freezer, 'FROZEN', 'the cgroup freezer holds it');
  assert.equal((await info('busy')).status, 'running', 'a running session keeps its sprite up');
  const counts = (await d.api<{ org: { running: number; warm: number; cold: number } }>('GET', '/v1/sprites')).body.org;
  assert.deepEqual([counts.running, counts.warm, counts.cold], [1, 1, 0]);

  // A command against the warm sprite just works; the sprite is running again.
  const woke = await d.exec('dozy', ['cat', '/home/sprite/f']);
  assert.equal(woke.stdout, 'kept\n');
  assert.equal((await info('dozy')).status, 'running');

  // Left alone, it goes warm again and then cold; the disk stays, the next command boots it.
  await pollUntil(async () => (await info('dozy')).status === 'cold', 40_000, 'dozy cold');
  assert.equal((await info('busy')).status, 'running', 'still up while its session runs');
  const cold = await d.exec('dozy', ['cat', '/home/sprite/f']);
  assert.equal(cold.stdout, 'kept\n');
  assert.equal((await info('dozy')).status, 'running');

  // Once the session ends, busy may idle too.
  await d.api('POST', `/v1/sprites/busy/exec/${sessionId}/kill?signal=KILL&timeout=5s`);
  await pollUntil(async () => (await info('busy')).status === 'warm', 20_000, 'busy warm after its session ended');
});

test('a long quiet command with its client attached is neither frozen nor cut off', async (t) => {
  const d = await startTestDaemon(t, {
    env: { SPRITES_IDLE_WARM_SECONDS: '1', SPRITES_IDLE_COLD_SECONDS: '3', SPRITES_PREBOOTED: '0' },
  });
  await d.createSprite('quiet', { ram_mb: 256, storage_gb: 1 });
  const r = await d.exec('quiet', ['sh', '-c', 'sleep 6; echo done']);
  assert.equal(r.code, 0);
  assert.equal(r.stdout, 'done\n');
});
