import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { DaemonConfig } from '../config.js';
import type { Logger } from '../log.js';
import { BtrfsDriver, DEFAULT_IMAGE_RECIPE, ImageCache } from '../storage/index.js';

/** The storage pool, mounted, with the default image built (or cached) and imported into it. */
export async function openStorage(
  config: DaemonConfig,
  log: Logger,
): Promise<{ storage: BtrfsDriver; imageKey: string }> {
  const storageLog = (line: string) => log.info({ room: 'storage' }, line);
  const storage = new BtrfsDriver({
    imageFile: join(config.dataDir, 'storage', 'pool.img'),
    device: config.poolDevice,
    mountPoint: join(config.dataDir, 'storage', 'pool'),
    sizeBytes: config.poolSizeBytes,
  });
  await mkdir(join(config.dataDir, 'storage'), { recursive: true, mode: 0o700 });
  if (await storage.mount()) storageLog(`storage pool mounted at ${join(config.dataDir, 'storage', 'pool')}`);

  const image = await new ImageCache(config.imageCacheDir).ensure(DEFAULT_IMAGE_RECIPE, storageLog);
  await storage.importImage(image.key, image.rootfs, storageLog);
  return { storage, imageKey: image.key };
}
