import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeStorageDriver } from './conformance.js';
import { DirDriver } from './dir.js';

// The directory driver needs no root: the conformance suite runs on it as a unit test.
describeStorageDriver('dir', async () => {
  const root = await mkdtemp(join(tmpdir(), 'spr-dir-driver-'));
  return {
    driver: new DirDriver(join(root, 'pool')),
    dispose: () => rm(root, { recursive: true, force: true }),
  };
});
