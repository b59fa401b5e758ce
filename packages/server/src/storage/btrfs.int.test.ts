import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { describeStorageDriver } from './conformance.js';
import { BtrfsDriver } from './btrfs.js';

// The btrfs driver on a loop file of its own (root needed): the same suite as every driver.
const why = 'the btrfs driver needs root (a loop device, mount, btrfs quotas)';
if (process.getuid?.() !== 0) {
  if (process.env.SPRITES_REQUIRED_TESTS === '1') throw new Error(why);
  console.log(`# skipped: ${why}`);
} else {
  describeStorageDriver('btrfs', async () => {
    const root = await mkdtemp('/tmp/spr-btrfs-driver-');
    const driver = new BtrfsDriver({
      imageFile: join(root, 'pool.img'),
      mountPoint: join(root, 'pool'),
      sizeBytes: 512 * 2 ** 20,
    });
    return {
      driver,
      dispose: async () => {
        await driver.unmount().catch(() => undefined);
        // A mount left by a failed unmount must not make rm walk into the pool.
        const mounts = execFileSync('cat', ['/proc/self/mounts']).toString();
        if (!mounts.includes(join(root, 'pool'))) await rm(root, { recursive: true, force: true });
      },
    };
  });
}
