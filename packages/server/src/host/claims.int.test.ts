import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { test } from 'node:test';
import { HostClaims } from './claims.js';

test('claims are exclusive across instances and concurrent acquirers', async (t) => {
  const root = mkdtempSync('/tmp/spr-claims-');
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const a = new HostClaims(root, 'net', 'insta', 64);
  const b = new HostClaims(root, 'net', 'instb', 64);
  const got = await Promise.all(Array.from({ length: 40 }, (_, i) => (i % 2 ? a : b).acquire(`s${i}`)));
  assert.equal(new Set(got).size, 40, 'no index handed out twice');
  assert.equal((await a.mine()).length, 20);
  const firstOfA = (await a.mine())[0]!;
  assert.equal(await b.claim(firstOfA.index, firstOfA.owner), false, "another instance's claim is not taken over");
  assert.equal(await a.claim(firstOfA.index, firstOfA.owner), true, 'the holder may re-claim its own');
  await a.setOwner(firstOfA.index, 'renamed');
  assert.equal((await a.ownerOf(firstOfA.index))?.owner, 'renamed');
  const firstOfB = (await b.mine())[0]!;
  assert.equal(await a.release(firstOfB.index), false, "an instance cannot release another's claim");
  assert.equal((await b.ownerOf(firstOfB.index))?.instanceId, 'instb', 'the claim is still held');
  assert.equal(await a.release(firstOfA.index), true);
  assert.equal(await b.claim(firstOfA.index, 'x'), true, 'a released index is free again');
  // A claim half-made by a process that died (kill -9) is removed; a live process's stays.
  const { mkdirSync, writeFileSync, existsSync } = await import('node:fs');
  mkdirSync(`${root}/net/.pending-999999-dead`);
  writeFileSync(`${root}/net/.pending-999999-dead/owner`, 'insta x\n');
  mkdirSync(`${root}/net/.pending-${process.pid}-live`);
  assert.equal(await a.removeStalePending(), 1);
  assert.ok(!existsSync(`${root}/net/.pending-999999-dead`));
  assert.ok(existsSync(`${root}/net/.pending-${process.pid}-live`));
  await assert.rejects(
    new HostClaims(root, 'tiny', 'insta', 1)
      .acquire('one')
      .then(() => new HostClaims(root, 'tiny', 'instb', 1).acquire('two')),
    /no free tiny claim/,
  );
});
