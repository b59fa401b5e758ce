import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { test } from 'node:test';
import { HostClaims, unmountAll } from '../host/index.js';
import { createLogger } from '../log.js';
import { parsePool, SlotFactory } from '../network/index.js';
import { loadRuntime } from '../runtime/index.js';
import { RunAllocator } from './allocator.js';
import { SpritePaths } from './paths.js';

const sh = (cmd: string, args: string[]) => execFileSync(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] }).toString();

/**
 * Real netns, veths and mounts on a small pool of its own: a claim comes back only once its
 * resource is seen gone, and a leftover under a freshly claimed index does not fail the make.
 */
test('the allocator gives a claim back only once its resource is gone', async (t) => {
  const instance = `a${randomBytes(2).toString('hex')}`;
  const claimsDir = mkdtempSync('/tmp/spr-alloc-claims-');
  const dataDir = mkdtempSync('/tmp/spr-alloc-data-');
  const pool = parsePool('10.254.7.0/28');
  const slots = new SlotFactory(instance, pool);
  const netClaims = new HostClaims(claimsDir, 'net', instance, 4);
  const idClaims = new HostClaims(claimsDir, 'ids', instance, 4);
  const paths = new SpritePaths(dataDir, instance);
  const allocator = new RunAllocator(
    netClaims,
    idClaims,
    slots,
    await loadRuntime('crun'),
    paths,
    createLogger('silent'),
  );
  const extraMounts: string[] = [];
  t.after(async () => {
    for (const m of extraMounts) await unmountAll(m).catch(() => undefined);
    for (let i = 0; i < 4; i++) await slots.destroy(i).catch(() => undefined);
    rmSync(claimsDir, { recursive: true, force: true });
    rmSync(dataDir, { recursive: true, force: true });
  });

  // A netns and veth of ours left under index 0 (a crash between teardown and release).
  sh('ip', ['netns', 'add', slots.describe(0).netns]);
  sh('ip', ['link', 'add', slots.describe(0).hostVeth, 'type', 'veth', 'peer', 'name', `${instance}p`]);
  const first = await allocator.makeNetwork('one');
  assert.equal(first.index, 0);
  assert.ok(
    sh('ip', ['-n', first.netns, 'addr']).includes(first.spriteIp),
    'the slot was built afresh over the leftover',
  );

  // Something else still holds the netns (another mount of it): the teardown fails and the
  // claim stays, so the index is not handed out again.
  sh('mount', ['--bind', first.netnsPath, first.netnsPath]);
  extraMounts.push(first.netnsPath);
  await assert.rejects(allocator.retireNetwork(0), /claim is kept/);
  assert.equal((await netClaims.ownerOf(0))?.owner, 'one');
  const others = await Promise.all([
    allocator.makeNetwork('two'),
    allocator.makeNetwork('three'),
    allocator.makeNetwork('four'),
  ]);
  assert.deepEqual(others.map((s) => s.index).sort(), [1, 2, 3]);
  await assert.rejects(allocator.makeNetwork('five'), /no network addresses left \(4 in use\)/);
  // Each retry detaches more of what holds it; while the netns file is there, so is the claim.
  for (let attempt = 0; attempt < 5 && (await allocator.retryKept()) > 0; attempt++) {
    assert.ok(existsSync(first.netnsPath));
    assert.equal((await netClaims.ownerOf(0))?.owner, 'one');
  }
  extraMounts.pop();
  assert.equal(await netClaims.ownerOf(0), null, 'given back once gone');
  assert.ok(!existsSync(first.netnsPath));
  for (const s of others) await allocator.retireNetwork(s.index);
  assert.deepEqual(await netClaims.mine(), []);

  // An id range whose root filesystem is still mounted is kept until it is unmounted.
  const idSlot = await allocator.acquireIds('sprite-x');
  const rootfs = paths.rootfs('sprite-x');
  mkdirSync(rootfs, { recursive: true });
  sh('mount', ['-t', 'tmpfs', 'tmpfs', rootfs]);
  extraMounts.push(rootfs);
  await assert.rejects(allocator.retireIds(idSlot, 'sprite-x'), /still in use/);
  assert.equal((await idClaims.ownerOf(idSlot))?.owner, 'sprite-x');
  sh('umount', [rootfs]);
  extraMounts.pop();
  assert.equal(await allocator.retryKept(), 0);
  assert.deepEqual(await idClaims.mine(), []);
});
