import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { SpriteRecord } from '../registry/index.js';
import { UrlError } from './errors.js';
import { SpriteTargets, type TargetLifecycle } from './targets.js';

const dir = mkdtempSync(join(tmpdir(), 'url-targets-'));
const socket = join(dir, 'agent.sock');
/** What the fake agent answers to `POST /v1/internal/http-target` next. */
let agentAnswer: { status: number; body: string } = { status: 200, body: '{"port":3000,"started":false}' };
let agentAsked = 0;
let agent: Server;

before(async () => {
  agent = createServer((req, res) => {
    agentAsked++;
    assert.equal(`${req.method} ${req.url}`, 'POST /v1/internal/http-target');
    res.writeHead(agentAnswer.status, { 'content-type': 'application/json' }).end(agentAnswer.body);
  });
  await new Promise<void>((resolve) => agent.listen(socket, resolve));
});
after(async () => {
  await new Promise((resolve) => agent.close(resolve));
  rmSync(dir, { recursive: true, force: true });
});

const sprite = { id: 's1', name: 'box' } as SpriteRecord;

/** A lifecycle whose sprite runs (run-1 at 10.0.0.2) or not; records wakes and touches. */
function fakeLifecycle(state: { running: boolean; known?: string }) {
  const calls: string[] = [];
  const lifecycle: TargetLifecycle = {
    knownRunId: () => state.known,
    currentRun: () => Promise.resolve(state.running ? { runId: 'run-1', address: '10.0.0.2' } : null),
    touch: () => void calls.push('touch'),
    ensureRunning: () => {
      calls.push('wake');
      state.running = true;
      return Promise.resolve();
    },
    agentSocket: () => socket,
  };
  return { lifecycle, calls };
}

test('a sprite that was not running is woken, its agent asked, and connections to it retried', async () => {
  agentAnswer = { status: 200, body: '{"port":3000,"started":false}' };
  const { lifecycle, calls } = fakeLifecycle({ running: false });
  const found = await new SpriteTargets(lifecycle, 60_000).find(sprite);
  assert.deepEqual(found, { runId: 'run-1', address: '10.0.0.2', port: 3000, retry: true });
  assert.deepEqual(calls, ['wake']);
});

test('a running sprite is asked once; then its answer is reused for the same run', async () => {
  agentAnswer = { status: 200, body: '{"port":3000,"started":false}' };
  const { lifecycle, calls } = fakeLifecycle({ running: true, known: 'run-1' });
  const targets = new SpriteTargets(lifecycle, 60_000);
  const asked = agentAsked;
  const expected = { runId: 'run-1', address: '10.0.0.2', port: 3000, retry: false };
  assert.deepEqual(await targets.find(sprite), expected);
  const { runId, address, port, retry } = await targets.find(sprite);
  assert.deepEqual({ runId, address, port, retry }, expected);
  assert.equal(agentAsked - asked, 1);
  // The cached path still counts as activity, so the sprite does not idle under its traffic.
  assert.deepEqual(calls, ['wake', 'touch']);
  targets.forget(sprite.id);
  await targets.find(sprite);
  assert.equal(agentAsked - asked, 2);
});

test('a service the agent just started is retried; a bad answer means port 8080', async () => {
  const { lifecycle } = fakeLifecycle({ running: true, known: 'run-1' });
  agentAnswer = { status: 200, body: '{"port":5000,"started":true}' };
  assert.deepEqual(await new SpriteTargets(lifecycle, 0).find(sprite), {
    runId: 'run-1',
    address: '10.0.0.2',
    port: 5000,
    retry: true,
  });
  for (const body of ['not json', '{"port":70000}', '{"port":"80"}', '{"port":80.5}']) {
    agentAnswer = { status: 200, body };
    assert.equal((await new SpriteTargets(lifecycle, 0).find(sprite)).port, 8080, body);
  }
  agentAnswer = { status: 500, body: '{"port":3000}' };
  assert.equal((await new SpriteTargets(lifecycle, 0).find(sprite)).port, 8080);
});

test('a sprite that does not run after waking is a 503; an unreachable agent a 502', async () => {
  const stuck = fakeLifecycle({ running: false });
  stuck.lifecycle.ensureRunning = () => Promise.resolve();
  await assert.rejects(
    new SpriteTargets(stuck.lifecycle, 0).find(sprite),
    (e: unknown) => e instanceof UrlError && e.status === 503,
  );
  const { lifecycle } = fakeLifecycle({ running: true, known: 'run-1' });
  lifecycle.agentSocket = () => join(dir, 'nobody.sock');
  await assert.rejects(
    new SpriteTargets(lifecycle, 0).find(sprite),
    (e: unknown) => e instanceof UrlError && e.status === 502 && /agent of sprite box did not answer/.test(e.message),
  );
});
