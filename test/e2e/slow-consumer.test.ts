import assert from 'node:assert/strict';
import { request } from 'node:http';
import { test } from 'node:test';
import { SpritesClient } from '@sprites/sdk';
import WebSocket from 'ws';
import { agentPid, rssBytes } from '../helpers/agent-process.js';
import { startTestDaemon } from '../helpers/daemon.js';
import { execUrl } from '../helpers/ws.js';

/** How much the agent may grow while a client does not read (the audit saw 720 MB in 15 s). */
const MAX_GROWTH = 64 * 1024 * 1024;
const MiB = 1024 * 1024;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The most `pid` grew over `baseline` while sampling it every second for `ms`. */
async function peakGrowth(pid: number, baseline: number, ms: number): Promise<number> {
  let peak = 0;
  for (const end = Date.now() + ms; Date.now() < end;) {
    await sleep(1000);
    peak = Math.max(peak, rssBytes(pid) - baseline);
  }
  return peak;
}

/** Bytes counted by `counter()` over `ms`. */
async function flowOver(counter: () => number, ms: number): Promise<number> {
  const before = counter();
  await sleep(ms);
  return counter() - before;
}

test('a client that stops reading pauses the command instead of filling the agent', async (t) => {
  const d = await startTestDaemon(t);
  const sprite = await d.createSprite('slow', { ram_mb: 1024, storage_gb: 1 });
  const agent = agentPid(d, sprite.id);

  await t.test('WebSocket exec: paused for 60 s, then resumed', async () => {
    const baseline = rssBytes(agent);
    const ws = new WebSocket(
      execUrl(d.url, 'slow', [
        ['cmd', 'cat'],
        ['cmd', '/dev/zero'],
        ['stdin', 'false'],
      ]),
      { headers: { authorization: `Bearer ${d.adminToken}` } },
    );
    t.after(() => ws.terminate());
    let received = 0;
    let closed = false;
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (isBinary && data[0] === 1) received += data.length - 1;
    });
    ws.on('close', () => (closed = true));
    ws.on('error', () => undefined);
    await new Promise<void>((resolve) => ws.once('open', () => resolve()));
    while (received < 8 * MiB) await sleep(50);
    ws.pause();
    const growth = await peakGrowth(agent, baseline, 60_000);
    t.diagnostic(`agent grew by at most ${(growth / MiB).toFixed(1)} MiB while the client did not read`);
    assert.ok(growth < MAX_GROWTH, `the agent grew by ${(growth / MiB).toFixed(1)} MiB`);
    ws.resume();
    const flowed = await flowOver(() => received, 3000);
    assert.ok(flowed > 8 * MiB, `output flows again after the pause (${flowed} bytes in 3 s)`);
    assert.equal(closed, false, 'the command is still running');
    ws.terminate();
  });

  await t.test('HTTP exec: a stalled reader for 20 s, then resumed', async () => {
    const baseline = rssBytes(agent);
    let received = 0;
    const req = request(`${d.url}/v1/sprites/slow/exec?cmd=cat&cmd=/dev/zero&path=cat`, {
      method: 'POST',
      headers: { authorization: `Bearer ${d.adminToken}` },
    });
    t.after(() => req.destroy());
    req.on('error', () => undefined);
    const res = await new Promise<import('node:http').IncomingMessage>((resolve) => {
      req.on('response', resolve);
      req.end();
    });
    assert.equal(res.statusCode, 200);
    let ended = false;
    res.on('data', (c: Buffer) => (received += c.length));
    res.on('end', () => (ended = true));
    while (received < 8 * MiB) await sleep(50);
    res.pause();
    const growth = await peakGrowth(agent, baseline, 20_000);
    t.diagnostic(`agent grew by at most ${(growth / MiB).toFixed(1)} MiB while the HTTP reader stalled`);
    assert.ok(growth < MAX_GROWTH, `the agent grew by ${(growth / MiB).toFixed(1)} MiB`);
    res.resume();
    const flowed = await flowOver(() => received, 3000);
    assert.ok(flowed > 8 * MiB, `output flows again (${flowed} bytes in 3 s)`);
    assert.equal(ended, false, 'the command is still running');
    req.destroy();
  });

  await t.test('SDK: a Cmd whose stdout is not read holds the command, not the memory', async () => {
    const client = new SpritesClient(d.adminToken, { baseURL: d.url });
    const cmd = client.sprite('slow').spawn('cat', ['/dev/zero'], { stdin: 'ignore' });
    t.after(() => cmd.kill('KILL'));
    const stdout = cmd.stdout;
    // Read a first bit so the command is known to run, then stop reading.
    await new Promise<void>((resolve) => stdout.once('readable', () => resolve()));
    const before = process.memoryUsage();
    const agentBefore = rssBytes(agent);
    let peak = 0;
    let agentPeak = 0;
    for (let i = 0; i < 15; i++) {
      await sleep(1000);
      const now = process.memoryUsage();
      peak = Math.max(peak, now.rss - before.rss, now.arrayBuffers - before.arrayBuffers);
      agentPeak = Math.max(agentPeak, rssBytes(agent) - agentBefore);
    }
    t.diagnostic(
      `SDK process grew by at most ${(peak / MiB).toFixed(1)} MiB, agent by ${(agentPeak / MiB).toFixed(1)} MiB`,
    );
    assert.ok(peak < MAX_GROWTH, `the SDK's process grew by ${(peak / MiB).toFixed(1)} MiB`);
    assert.ok(agentPeak < MAX_GROWTH, `the agent grew by ${(agentPeak / MiB).toFixed(1)} MiB`);
    let read = 0;
    stdout.on('data', (c: Buffer) => (read += c.length));
    const flowed = await flowOver(() => read, 3000);
    assert.ok(flowed > 8 * MiB, `reading again gets output (${flowed} bytes in 3 s)`);
    cmd.kill('KILL');
    await cmd.wait().catch(() => undefined);
  });

  await t.test('a slow attacher is dropped; the owner keeps its pace', async () => {
    const url = execUrl(d.url, 'slow', [
      ['cmd', 'cat'],
      ['cmd', '/dev/zero'],
      ['stdin', 'false'],
    ]);
    const owner = new WebSocket(url, { headers: { authorization: `Bearer ${d.adminToken}` } });
    t.after(() => owner.terminate());
    owner.on('error', () => undefined);
    let ownerBytes = 0;
    let sessionId = '';
    owner.on('message', (data: Buffer, isBinary: boolean) => {
      if (!isBinary) sessionId ||= (JSON.parse(data.toString()) as { session_id?: string }).session_id ?? '';
      else ownerBytes += data.length;
    });
    while (ownerBytes < MiB) await sleep(50);
    const attacher = new WebSocket(execUrl(d.url, 'slow', [['stdin', 'false']], `/${sessionId}`), {
      headers: { authorization: `Bearer ${d.adminToken}` },
    });
    t.after(() => attacher.terminate());
    attacher.on('error', () => undefined);
    const attacherClosed = new Promise<number>((resolve) => attacher.on('close', (code) => resolve(code)));
    await new Promise<void>((resolve) => attacher.once('open', () => resolve()));
    attacher.pause();
    await sleep(2000);
    const flowed = await flowOver(() => ownerBytes, 5000);
    assert.ok(flowed > 20 * MiB, `the owner keeps receiving while the attacher stalls (${flowed} bytes in 5 s)`);
    attacher.resume();
    const code = await Promise.race([attacherClosed, sleep(15_000).then(() => -1)]);
    assert.ok(code === 4008 || code === 1006, `the slow attacher was closed (code ${code})`);
    owner.terminate();
  });
});
