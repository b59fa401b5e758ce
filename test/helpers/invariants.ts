import assert from 'node:assert/strict';
import type { TestDaemon } from './daemon.js';
import { hostState } from './host-state.js';

/** Checks shared by the crash and churn tests: what a user and an operator can observe. */

export interface SpriteInfo {
  id: string;
  name: string;
  status: string;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function ndjson(
  d: TestDaemon,
  path: string,
  body: unknown = {},
): Promise<{ status: number; text: string }> {
  const res = await fetch(`${d.url}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${d.adminToken}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, text: await res.text() };
}

export async function writeFile(d: TestDaemon, sprite: string, path: string, content: string): Promise<void> {
  const res = await fetch(`${d.url}/v1/sprites/${sprite}/fs/write?path=${encodeURIComponent(path)}`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${d.adminToken}` },
    body: content,
  });
  assert.equal(res.status, 200, await res.text());
}

/** Every sprite of the admin organization, page by page. */
export async function sprites(d: TestDaemon): Promise<SpriteInfo[]> {
  const all: SpriteInfo[] = [];
  let token: string | null = null;
  do {
    const res: { status: number; body: { sprites: SpriteInfo[]; next_continuation_token: string | null } } =
      await d.api(
        'GET',
        `/v1/sprites?max_results=50${token ? `&continuation_token=${encodeURIComponent(token)}` : ''}`,
      );
    assert.equal(res.status, 200);
    all.push(...res.body.sprites);
    token = res.body.next_continuation_token;
  } while (token);
  return all;
}

export async function statusOf(d: TestDaemon, name: string): Promise<string> {
  return (await d.api<SpriteInfo>('GET', `/v1/sprites/${name}`)).body.status;
}

export async function waitForStatus(d: TestDaemon, name: string, status: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while ((await statusOf(d, name)) !== status) {
    if (Date.now() > deadline) throw new Error(`${name} did not become ${status}`);
    await sleep(100);
  }
}

/**
 * The host holds exactly what the registry says, and nothing else of this daemon: a
 * container, netns, host veth, network claim, id claim, cgroup, run dir and root filesystem
 * mount for each sprite with a run; a volume for each sprite; on disk exactly the
 * checkpoints the registry lists.
 */
export async function assertHostMatchesRegistry(d: TestDaemon, context: string): Promise<SpriteInfo[]> {
  const listed = await sprites(d);
  const host = hostState(d.instanceId, d.dataDir);
  const live = listed
    .filter((s) => s.status === 'running' || s.status === 'warm')
    .map((s) => s.id)
    .sort();
  const all = listed.map((s) => s.id).sort();
  const why = `${context}: registry ${JSON.stringify(listed.map((s) => `${s.name}/${s.status}`))}\n${d.logTail(15)}`;
  assert.deepEqual(host.containers, live, `containers ${why}`);
  assert.equal(host.netns.length, live.length, `netns ${host.netns.join(',')} ${why}`);
  assert.equal(host.veths.length, live.length, `veths ${host.veths.join(',')} ${why}`);
  assert.deepEqual(host.netClaimOwners, live, `network claims ${why}`);
  assert.deepEqual(host.idClaimOwners, live, `id claims ${why}`);
  assert.deepEqual(host.runDirs, live, `run dirs ${why}`);
  assert.deepEqual(host.rootfsMounts, live, `root filesystem mounts ${why}`);
  for (const cgroups of host.cgroupChildren)
    assert.ok(
      cgroups.every((c) => live.includes(c)),
      `cgroups ${cgroups.join(',')} ${why}`,
    );
  assert.deepEqual(host.volumes, all, `volumes ${why}`);
  assert.ok(
    host.checkpointDirs.every((v) => all.includes(v)),
    `checkpoint dirs ${host.checkpointDirs.join(',')} ${why}`,
  );
  for (const s of listed) {
    const rows = (await d.api<{ id: string }[]>('GET', `/v1/sprites/${s.name}/checkpoints?includeAuto=true`)).body
      .map((c) => c.id)
      .sort();
    assert.deepEqual(host.checkpoints.get(s.id) ?? [], rows, `checkpoints of ${s.name} ${why}`);
  }
  return listed;
}

/** Every listed sprite answers a command (a cold one boots): none is half there. */
export async function assertEverySpriteWorks(d: TestDaemon, listed: SpriteInfo[]): Promise<void> {
  for (const s of listed) {
    const r = await d.exec(s.name, ['hostname']);
    assert.equal(r.code, 0, `${s.name}: ${r.stderr}`);
    assert.equal(r.stdout.trim(), s.name);
  }
}
