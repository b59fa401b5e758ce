export type {
  CheckpointKind,
  CheckpointRef,
  PoolUsage,
  PreparedRestore,
  QuotaGroup,
  RestoreSwap,
  SettledRestores,
  SnapshotOptions,
  StorageDriver,
  StorageInfo,
} from './driver.js';
export { BtrfsDriver, type BtrfsPoolOptions } from './btrfs.js';
export { DirDriver } from './dir.js';
export { ImageCache, DEFAULT_IMAGE_RECIPE, imageKey, type ImageRecipe } from './image-cache.js';
