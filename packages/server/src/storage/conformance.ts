import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { CheckpointRef, StorageDriver } from './driver.js';

/** A driver on a pool of its own, and what removes that pool again. */
export interface DriverUnderTest {
  driver: StorageDriver;
  dispose(): Promise<void>;
}

const IMAGE = 'conformance-image';

/**
 * The behaviour every StorageDriver must show (incus runs one suite over all its storage
 * backends): each driver's test calls this with a factory for a fresh, empty pool.
 */
export function describeStorageDriver(name: string, make: () => Promise<DriverUnderTest>): void {
  describe(`storage driver conformance: ${name}`, () => {
    let under: DriverUnderTest | undefined;
    let source = '';
    const driver = (): StorageDriver => {
      if (!under) throw new Error('the driver under test was not made');
      return under.driver;
    };
    const fresh = () => `vol-${randomBytes(4).toString('hex')}`;
    const read = (volume: string, file = 'data') => readFile(join(driver().volumePath(volume), file), 'utf8');
    const write = (volume: string, text: string, file = 'data') =>
      writeFile(join(driver().volumePath(volume), file), text);
    const named = (id: string): CheckpointRef => ({ id, kind: 'named' });
    const auto = (id: string): CheckpointRef => ({ id, kind: 'auto' });
    /** A volume cloned from the image, with a quota group, holding `text`. */
    const volumeWith = async (text: string) => {
      const volume = fresh();
      await driver().createVolume(volume, { fromImage: IMAGE });
      const quota = await driver().setQuota(volume, 256 * 2 ** 20);
      await write(volume, text);
      return { volume, quota };
    };

    before(async () => {
      under = await make();
      source = await mkdtemp(join(tmpdir(), 'spr-storage-image-'));
      await mkdir(join(source, 'etc'));
      await writeFile(join(source, 'etc', 'hostname'), 'image\n');
      await writeFile(join(source, 'data'), 'from the image');
      assert.equal(typeof (await under.driver.mount()), 'boolean');
      await under.driver.importImage(IMAGE, source);
    });

    after(async () => {
      await under?.dispose();
      if (source) await rm(source, { recursive: true, force: true });
    });

    test('mounting again is a no-op, and usage adds up', async () => {
      assert.equal(await driver().mount(), false);
      const usage = await driver().usage();
      assert.ok(usage.totalBytes > 0);
      assert.ok(usage.usedBytes >= 0 && usage.usedBytes <= usage.totalBytes);
      assert.ok(usage.availableBytes >= 0 && usage.availableBytes <= usage.totalBytes);
    });

    test('volumes are independent clones of the image; importing again changes nothing', async () => {
      await driver().importImage(IMAGE, source);
      const a = fresh();
      const b = fresh();
      await driver().createVolume(a, { fromImage: IMAGE });
      await driver().createVolume(b, { fromImage: IMAGE });
      assert.equal(await read(a, 'etc/hostname'), 'image\n');
      await write(a, 'changed in a');
      assert.equal(await read(b), 'from the image');
      const c = fresh();
      await driver().createVolume(c, { fromImage: IMAGE });
      assert.equal(await read(c), 'from the image', 'the image is untouched by its clones');
      for (const v of [a, b, c]) await driver().deleteVolume(v);
    });

    test('rename, has, list and delete (idempotent) a volume', async () => {
      const { volume } = await volumeWith('kept across a rename');
      const renamed = fresh();
      await driver().renameVolume(volume, renamed);
      assert.equal(await driver().hasVolume(volume), false);
      assert.equal(await driver().hasVolume(renamed), true);
      assert.equal(await read(renamed), 'kept across a rename');
      const listed = await driver().listVolumes();
      assert.ok(listed.includes(renamed) && !listed.includes(volume));
      await driver().deleteVolume(renamed);
      await driver().deleteVolume(renamed);
      assert.equal(await driver().hasVolume(renamed), false);
      assert.ok(!(await driver().listVolumes()).includes(renamed));
    });

    test('setQuota hands back the group it was given', async () => {
      const { volume, quota } = await volumeWith('x');
      assert.equal(await driver().setQuota(volume, 128 * 2 ** 20, quota), quota);
      await driver().destroyVolume(volume, quota);
    });

    test('a checkpoint keeps the volume as it was; named ones are browsable, auto ones apart', async () => {
      const { volume, quota } = await volumeWith('before');
      await driver().snapshot(volume, named('v1'), { quota });
      await driver().snapshot(volume, auto('auto-1'), { quota });
      await write(volume, 'after');
      assert.equal(await read(volume), 'after');
      const browsable = await driver().browsableCheckpoints(volume);
      assert.deepEqual(await readdir(browsable), ['v1']);
      assert.equal(await readFile(join(browsable, 'v1', 'data'), 'utf8'), 'before');
      assert.equal(await driver().hasCheckpoint(volume, named('v1')), true);
      assert.equal(await driver().hasCheckpoint(volume, auto('auto-1')), true);
      assert.equal(await driver().hasCheckpoint(volume, named('auto-1')), false, 'the kind is part of the name');
      const listed = (await driver().listCheckpoints()).get(volume) ?? [];
      assert.deepEqual(
        [...listed].sort((x, y) => x.id.localeCompare(y.id)),
        [auto('auto-1'), named('v1')],
      );
      await driver().deleteCheckpoint(volume, named('v1'));
      await driver().deleteCheckpoint(volume, named('v1'));
      assert.equal(await driver().hasCheckpoint(volume, named('v1')), false);
      assert.deepEqual(await readdir(browsable), []);
      await driver().destroyVolume(volume, quota);
      assert.equal((await driver().listCheckpoints()).get(volume)?.length ?? 0, 0);
    });

    test('a restore swaps the checkpoint in; revert puts the old disk back', async () => {
      const { volume, quota } = await volumeWith('checkpointed');
      await driver().snapshot(volume, named('v1'), { quota });
      await write(volume, 'newer');
      const prepared = await driver().prepareRestore(volume, named('v1'), quota);
      assert.equal(await read(volume), 'newer', 'the live volume is untouched until the swap');
      const swap = await prepared.swapIn();
      assert.equal(await read(volume), 'checkpointed');
      assert.deepEqual(
        (await driver().listVolumes()).filter((v) => v.includes(volume)),
        [volume],
        'scratch entries are not volumes',
      );
      await swap.revert();
      assert.equal(await read(volume), 'newer');
      await prepared.discard();
      await prepared.discard();
      assert.equal(await driver().reclaimScratch(), 0, 'nothing is left over');
      assert.equal(await read(volume), 'newer');
      await driver().destroyVolume(volume, quota);
    });

    test('a committed restore frees the replaced volume and leaves no scratch', async () => {
      const { volume, quota } = await volumeWith('checkpointed');
      await driver().snapshot(volume, auto('auto-7'), { quota });
      await write(volume, 'newer');
      const prepared = await driver().prepareRestore(volume, auto('auto-7'), quota);
      const swap = await prepared.swapIn();
      await swap.commit();
      await prepared.discard();
      assert.equal(await read(volume), 'checkpointed');
      assert.equal(await driver().reclaimScratch(), 0);
      await write(volume, 'writable after a restore');
      assert.equal(await read(volume), 'writable after a restore');
      await driver().destroyVolume(volume, quota);
    });

    test('after a crash, a swapped-in restore is kept if recorded and undone if not', async () => {
      const kept = await volumeWith('kept: checkpoint');
      const undone = await volumeWith('undone: checkpoint');
      const untouched = await volumeWith('untouched');
      for (const v of [kept, undone]) {
        await driver().snapshot(v.volume, named('v3'), { quota: v.quota });
        await write(v.volume, 'live');
        await (await driver().prepareRestore(v.volume, named('v3'), v.quota)).swapIn();
      }
      const settled = await driver().settleRestores(
        new Map([
          [kept.volume, 'v3'],
          [undone.volume, 'v2'],
          [untouched.volume, null],
        ]),
      );
      assert.deepEqual(settled, { finished: [kept.volume], undone: [undone.volume] });
      assert.equal(await read(kept.volume), 'kept: checkpoint');
      assert.equal(await read(undone.volume), 'live');
      assert.equal(await read(untouched.volume), 'untouched');
      // The undone restore's copy is scratch now.
      assert.equal(await driver().reclaimScratch(), 1);
      assert.equal(await driver().reclaimScratch(), 0);
      for (const v of [kept, undone, untouched]) await driver().destroyVolume(v.volume, v.quota);
    });

    test('a copy prepared but never swapped in is scratch', async () => {
      const { volume, quota } = await volumeWith('live');
      await driver().snapshot(volume, named('v1'), { quota });
      await driver().prepareRestore(volume, named('v1'), quota);
      assert.ok(!(await driver().listVolumes()).some((v) => v !== volume && v.includes(volume)));
      assert.equal(await driver().reclaimScratch(), 1);
      assert.equal(await read(volume), 'live');
      await driver().destroyVolume(volume, quota);
    });

    test('retiring a volume frees its name at once and its data later', async () => {
      const { volume, quota } = await volumeWith('retired');
      await driver().snapshot(volume, named('v1'), { quota });
      const free = await driver().retireVolume(volume, quota);
      assert.equal(await driver().hasVolume(volume), false);
      assert.ok(!(await driver().listVolumes()).includes(volume));
      await free();
      assert.equal((await driver().listCheckpoints()).get(volume)?.length ?? 0, 0);
      assert.equal(await driver().reclaimScratch(), 0, 'the retired volume is gone');
      // A volume without a disk retires too (its checkpoints go).
      const bare = fresh();
      await (
        await driver().retireVolume(bare, null)
      )();
    });

    test('retired volumes left by a crash are scratch', async () => {
      const { volume, quota } = await volumeWith('left behind');
      await driver().retireVolume(volume, quota);
      assert.equal(await driver().reclaimScratch(), 1);
      await driver().destroyVolume(volume, quota);
    });

    test('destroying a volume removes it and its checkpoints, and is idempotent', async () => {
      const { volume, quota } = await volumeWith('doomed');
      await driver().snapshot(volume, named('v1'), { quota });
      await driver().snapshot(volume, auto('auto-1'), { quota });
      await driver().destroyVolume(volume, quota);
      await driver().destroyVolume(volume, quota);
      assert.equal(await driver().hasVolume(volume), false);
      assert.equal((await driver().listCheckpoints()).get(volume)?.length ?? 0, 0);
    });

    test('with quotas, a volume cannot grow past its limit', async (t) => {
      if (!driver().info().quotas) return t.skip(`${driver().info().name} has no quotas`);
      const volume = fresh();
      await driver().createVolume(volume, { fromImage: IMAGE });
      const quota = await driver().setQuota(volume, 16 * 2 ** 20);
      // Random bytes: a compressing pool would store zeros in almost nothing.
      await assert.rejects(
        writeFile(join(driver().volumePath(volume), 'big'), randomBytes(64 * 2 ** 20)),
        // libuv names no EDQUOT: Node reports errno -122 as an unknown system error.
        (e: NodeJS.ErrnoException) => e.code === 'EDQUOT' || e.errno === -122,
      );
      await driver().destroyVolume(volume, quota);
    });
  });
}
