export type { StorageDriver, StorageInfo, PoolUsage } from './driver.js';
export { NotSupportedError, RESTORE_OLD_PREFIX } from './driver.js';
export { BtrfsDriver, type BtrfsPoolOptions } from './btrfs.js';
export { ImageCache, DEFAULT_IMAGE_RECIPE, imageKey, type ImageRecipe } from './image-cache.js';
