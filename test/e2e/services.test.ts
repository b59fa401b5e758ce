import assert from 'node:assert/strict';
import { test } from 'node:test';
import { APIError, SpritesClient, type ServiceWithState } from '@sprites/sdk';
import { startTestDaemon } from '../helpers/daemon.js';
import { freePort, pollUntil } from '../helpers/ws.js';

/** No state field is an empty string (PROTOCOL §11.1: omit or null). */
function assertNoEmptyStrings(svc: ServiceWithState): void {
  for (const [k, v] of Object.entries(svc.state ?? {})) assert.notEqual(v, '', `state.${k} is an empty string`);
}

test('services: supervised, restarted with backoff, sticky stops, needs order, logs; back after restart, cold boot and restore', async (t) => {
  const d = await startTestDaemon(t, { listen: `127.0.0.1:${await freePort()}` });
  const client = new SpritesClient(d.adminToken, { baseURL: d.url });
  const sprite = await client.createSprite('svc', { ramMB: 512, storageGB: 2 });

  await t.test('create streams the start and output; list and get show every state field', async () => {
    const events = await (
      await sprite.createService(
        'hello',
        {
          cmd: 'sh',
          args: ['-c', 'echo "hello $GREETING from $(pwd)"; exec sleep 1000'],
          env: { GREETING: 'hi' },
          dir: '/tmp',
        },
        '2s',
      )
    ).toArray();
    const types = events.map((e) => e.type);
    assert.equal(types[0], 'started');
    assert.ok(
      events.some((e) => e.type === 'stdout' && e.data === 'hello hi from /tmp'),
      JSON.stringify(events),
    );
    assert.equal(types.at(-1), 'complete');
    assert.equal(events.at(-1)?.logFiles?.combined, '/.sprite/logs/services/hello.log');
    assert.ok(events.every((e) => typeof e.timestamp === 'number' && e.timestamp > 1e12));
    const [listed] = await sprite.listServices();
    assert.equal(listed?.name, 'hello');
    assert.equal(listed?.state?.status, 'running');
    assert.ok((listed?.state?.pid ?? 0) > 0);
    assert.ok(listed?.state?.startedAt instanceof Date);
    assertNoEmptyStrings(listed);
    const log = await sprite.exec('cat /.sprite/logs/services/hello.log');
    assert.match(log.stdout, /^\d{4}-\d\d-\d\dT[\d:.]+Z \[stdout\] hello hi from \/tmp$/m);
    const quick = await (await sprite.createService('quick', { cmd: 'sleep', args: ['1000'] }, '0')).toArray();
    assert.deepEqual(quick.map((e) => e.type).at(-1), 'complete', 'duration 0 returns at once');
  });

  await t.test('a crashing service is restarted with growing delays; stop is sticky; signal and restart', async () => {
    await (await sprite.createService('crashy', { cmd: 'sh', args: ['-c', 'echo up; exit 3'] }, '0')).toArray();
    const state = await pollUntil(
      async () => {
        const s = await sprite.getService('crashy');
        return (s.state?.restartCount ?? 0) >= 3 ? s.state : null;
      },
      20_000,
      'three restarts',
    );
    assert.equal(state.status === 'failed' || state.status === 'running', true);
    assert.ok(state.nextRestartAt === undefined || state.nextRestartAt instanceof Date);
    const starts = (await sprite.exec('grep "\\[service\\] started" /.sprite/logs/services/crashy.log')).stdout
      .trim()
      .split('\n')
      .map((l) => Date.parse(l.split(' ')[0]!));
    const gaps = starts.slice(1).map((t, i) => t - starts[i]!);
    assert.ok(gaps.length >= 2 && gaps[1]! > gaps[0]! * 1.5, `delays grow: ${gaps.join(', ')} ms`);
    await (await sprite.stopService('crashy')).toArray().catch(() => undefined);
    const stopped = await sprite.getService('crashy');
    assert.equal(stopped.state?.status, 'stopped');
    await new Promise((r) => setTimeout(r, 2500));
    assert.equal((await sprite.getService('crashy')).state?.status, 'stopped', 'a stopped service is not restarted');

    const killed = (await sprite.getService('hello')).state!.restartCount ?? 0;
    await sprite.signalService('hello', 'KILL');
    await pollUntil(
      async () => ((await sprite.getService('hello')).state?.restartCount === killed + 1 ? true : null),
      10_000,
      'the killed service to count a restart',
    );
    await pollUntil(
      async () => ((await sprite.getService('hello')).state?.status === 'running' ? true : null),
      10_000,
      'the killed service to run again',
    );
    const pid = (await sprite.getService('hello')).state?.pid;
    const restarted = await (await sprite.restartService('hello', '1s')).toArray();
    assert.ok(
      restarted.some((e) => e.type === 'stopping') && restarted.some((e) => e.type === 'started'),
      JSON.stringify(restarted.map((e) => e.type)),
    );
    assert.notEqual((await sprite.getService('hello')).state?.pid, pid);
    const logs = await (await sprite.getServiceLogs('hello', { lines: 50 })).toArray();
    assert.ok(logs.some((e) => e.type === 'stdout' && e.data === 'hello hi from /tmp'));
  });

  await t.test('bad input gets a clear 4xx', async () => {
    const status = async (p: Promise<unknown>) =>
      p.then(
        () => 200,
        (e: unknown) => (e instanceof APIError ? e.statusCode : String(e)),
      );
    assert.equal(await status(sprite.createService('Bad_Name', { cmd: 'true' })), 400);
    assert.equal((await d.api('PUT', '/v1/sprites/svc/services/nocmd', { args: ['x'] })).status, 400);
    assert.equal(await status(sprite.createService('neg', { cmd: 'true', httpPort: -1 })), 400);
    assert.equal(await status(sprite.createService('orphan', { cmd: 'true', needs: ['ghost'] })), 400);
    await (await sprite.createService('cyc-a', { cmd: 'sleep', args: ['1000'] }, '0')).toArray();
    await (await sprite.createService('cyc-b', { cmd: 'sleep', args: ['1000'], needs: ['cyc-a'] }, '0')).toArray();
    const cycle = await sprite
      .createService('cyc-a', { cmd: 'sleep', args: ['1000'], needs: ['cyc-b'] })
      .catch((e: unknown) => e);
    assert.ok(cycle instanceof APIError && cycle.statusCode === 400 && /cycle/.test(cycle.message), String(cycle));
    await (await sprite.createService('web1', { cmd: 'sleep', args: ['1000'], httpPort: 8080 }, '0')).toArray();
    const second = await sprite
      .createService('web2', { cmd: 'sleep', args: ['1000'], httpPort: 8081 })
      .catch((e: unknown) => e);
    assert.ok(
      second instanceof APIError && second.statusCode === 409 && /already has an HTTP port/.test(second.message),
    );
    assert.equal(await status(sprite.signalService('hello', 'NOPE')), 400);
    assert.equal(await status(sprite.signalService('crashy', 'TERM')), 409, 'signal to a stopped service');
    assert.equal(await status(sprite.stopService('crashy')), 409, 'stop of a stopped service');
    assert.equal(await status(sprite.getService('ghost')), 404);
    assert.equal(await status(sprite.deleteService('cyc-a')), 409, 'cyc-b needs it');
    assert.equal((await d.api('PUT', '/v1/sprites/svc/services/x', 'not an object')).status, 400);
    assert.equal((await d.api('PUT', '/v1/sprites/svc/services/x?duration=soon', { cmd: 'true' })).status, 400);
    await sprite.deleteService('cyc-b');
    await sprite.deleteService('cyc-a');
    await sprite.deleteService('web1');
    assert.equal(await status(sprite.getService('cyc-a')), 404);
  });

  await t.test(
    'needs order holds on a cold boot; services come back after a daemon restart and a restore; stops stay',
    async () => {
      await (await sprite.createService('base', { cmd: 'sleep', args: ['1001'] }, '0')).toArray();
      const check =
        'if pgrep -x -f "sleep 1001" >/dev/null; then echo base-was-up; else echo base-was-down; fi >> /home/sprite/app-saw; exec sleep 1002';
      await (await sprite.createService('app', { cmd: 'sh', args: ['-c', check], needs: ['base'] }, '0')).toArray();
      await d.restart({ stopSprites: true });
      assert.equal((await client.getSprite('svc')).status, 'cold');
      const after = await pollUntil(
        async () => {
          const list = await sprite.listServices();
          return list.find((s) => s.name === 'app')?.state?.status === 'running' ? list : null;
        },
        30_000,
        'services after a cold boot',
      );
      assert.equal(after.find((s) => s.name === 'base')?.state?.status, 'running');
      assert.equal(after.find((s) => s.name === 'crashy')?.state?.status, 'stopped', 'a stop survives a cold boot');
      const saw = (await sprite.exec('tail -n 1 /home/sprite/app-saw')).stdout;
      assert.equal(saw, 'base-was-up\n', 'what a service needs is started first');

      await d.restart();
      assert.equal(
        (await sprite.getService('app')).state?.status,
        'running',
        'a daemon restart leaves services running',
      );

      const cp = await (await sprite.createCheckpoint('with services')).done();
      const id = /Checkpoint (\S+) created/.exec(cp.data ?? '')?.[1] ?? '';
      await (await sprite.restoreCheckpoint(id)).done();
      const restored = await pollUntil(
        async () => ((await sprite.getService('app')).state?.status === 'running' ? true : null),
        30_000,
        'services after a restore',
      );
      assert.ok(restored);
    },
  );
});
