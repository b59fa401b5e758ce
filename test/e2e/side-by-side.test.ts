import assert from 'node:assert/strict';
import { test } from 'node:test';
import { collectLeftovers } from '../helpers/leftovers.js';
import { startTestDaemon } from '../helpers/daemon.js';

test('two daemons with different data dirs and instance ids do not touch each other', async (t) => {
  const a = await startTestDaemon(t);
  const b = await startTestDaemon(t);
  assert.notEqual(a.instanceId, b.instanceId);
  // The same sprite name in both: separate registries, separate resources.
  await a.createSprite('twin');
  await b.createSprite('twin');
  await a.exec('twin', ['sh', '-c', 'echo from-a > /home/sprite/who']);
  await b.exec('twin', ['sh', '-c', 'echo from-b > /home/sprite/who']);
  assert.equal((await a.exec('twin', ['cat', '/home/sprite/who'])).stdout, 'from-a\n');
  assert.equal((await b.exec('twin', ['cat', '/home/sprite/who'])).stdout, 'from-b\n');
  const ipOf = async (d: typeof a) => (await d.sh('twin', "ip -4 -o addr show eth0 | awk '{print $4}'")).stdout.trim();
  assert.notEqual(await ipOf(a), await ipOf(b), 'network slots are host-wide: no address is handed out twice');

  // Deleting in one and restarting it with kill -9 leaves the other's sprite running.
  assert.equal((await a.api('DELETE', '/v1/sprites/twin')).status, 204);
  await a.restart({ kill9: true });
  assert.equal((await b.exec('twin', ['cat', '/home/sprite/who'])).stdout, 'from-b\n');
  // A's instance holds nothing now except its daemon-wide state (pool, nft table).
  await a.stop();
  const leftA = collectLeftovers(a.instanceId, a.dataDir);
  assert.deepEqual(leftA, [], `a released everything at a clean stop with nothing running:\n${a.logTail(30)}`);
  await a.start();
  assert.equal((await b.exec('twin', ['cat', '/home/sprite/who'])).stdout, 'from-b\n');
});
