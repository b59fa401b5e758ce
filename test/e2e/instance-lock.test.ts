import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startTestDaemon, TestDaemon } from '../helpers/daemon.js';

/**
 * Two daemons sharing an instance id or a data dir would each take the other's sprites for
 * leftovers and reclaim them: the second one must refuse to start and leave the first alone.
 */
test('a second daemon with the same instance id or data dir refuses to start', async (t) => {
  const first = await startTestDaemon(t);
  await first.createSprite('lives', { ram_mb: 256, storage_gb: 1 });

  const sameInstance = new TestDaemon({ extraArgs: ['--instance', first.instanceId] });
  t.after(() => sameInstance.destroy());
  await assert.rejects(sameInstance.start(), /already runs with instance id "t[0-9a-f]+": stop it first/);

  const sameDataDir = new TestDaemon({ extraArgs: ['--data-dir', first.dataDir] });
  t.after(() => sameDataDir.destroy().catch(() => undefined));
  await assert.rejects(sameDataDir.start(), /already runs with data dir/);

  // The first one lost nothing.
  const r = await first.exec('lives', ['hostname']);
  assert.equal(r.stdout, 'lives\n');
  // Its lock goes with it, however it dies: a kill -9 and a restart take it again.
  await first.restart({ kill9: true });
  assert.equal((await first.exec('lives', ['hostname'])).stdout, 'lives\n');
});
