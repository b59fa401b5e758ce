import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startTestDaemon } from '../helpers/daemon.js';

// The rest of the suite runs on the default runtime (SPRITES_TEST_RUNTIME); this file drives
// a sprite's whole life on both OCI runtimes behind the one RuntimeDriver interface.
for (const runtime of ['crun', 'runc'] as const) {
  test(`${runtime}: create, exec, re-adopt after kill -9, stop/start, delete`, async (t) => {
    const d = await startTestDaemon(t, { runtime });
    const created = await d.createSprite('rt', { ram_mb: 256, storage_gb: 1 });
    assert.equal(created.status, 'running');
    assert.equal((await d.exec('rt', ['sh', '-c', 'echo $((6*7)) | tee /home/sprite/n'])).stdout, '42\n');
    await d.restart({ kill9: true });
    assert.equal((await d.api<{ status: string }>('GET', '/v1/sprites/rt')).body.status, 'running');
    await d.restart({ stopSprites: true });
    assert.equal((await d.api<{ status: string }>('GET', '/v1/sprites/rt')).body.status, 'cold', d.logTail(60));
    assert.equal((await d.exec('rt', ['cat', '/home/sprite/n'])).stdout, '42\n');
    assert.equal((await d.api('DELETE', '/v1/sprites/rt')).status, 204);
  });
}
