/**
 * The storage seam: pool-level and volume-level operations over one filesystem that can
 * snapshot. Callers branch on `info()`, never on the driver's name.
 */
export interface StorageInfo {
  name: string;
  /** Read-only snapshots of a live volume in constant time. */
  snapshots: boolean;
  /** Per-volume size limits (EDQUOT past them). */
  quotas: boolean;
}

export interface PoolUsage {
  totalBytes: number;
  usedBytes: number;
  /** What new data may still take (less than total - used on btrfs: metadata and reserves). */
  availableBytes: number;
}

export interface StorageDriver {
  info(): StorageInfo;
  /** Make the pool available; true if this call mounted it, false if it already was. */
  mount(): Promise<boolean>;
  /** Unmount the pool (and detach its loop device). Idempotent. */
  unmount(): Promise<void>;
  isMounted(): Promise<boolean>;
  /** The pool's size and free space (cheap: callers check it before every create). */
  usage(): Promise<PoolUsage>;

  hasImage(key: string): Promise<boolean>;
  /** Copy a root filesystem tree into the pool as the read-only image `key`. Idempotent. */
  importImage(key: string, sourceDir: string, onProgress?: (line: string) => void): Promise<void>;

  /** A new writable volume: a copy-on-write clone of image `fromImage`. */
  createVolume(name: string, opts: { fromImage: string }): Promise<void>;
  /** Renames a volume (constant time; its quota group goes with it). */
  renameVolume(from: string, to: string): Promise<void>;
  /** Removes the volume and its quota group. Idempotent. */
  deleteVolume(name: string): Promise<void>;
  hasVolume(name: string): Promise<boolean>;
  /**
   * Limit what the sprite may use, in bytes: the volume plus what its checkpoints hold.
   * Returns the quota group; pass it again for the same sprite.
   */
  setQuota(name: string, bytes: number, group?: number): Promise<number>;
  checkpointPath(volume: string, checkpoint: string): string;
  /** The directory holding the volume's named checkpoints (made if missing), for browsing. */
  browsableCheckpoints(volume: string): Promise<string>;
  hasCheckpoint(volume: string, checkpoint: string): Promise<boolean>;
  /** A read-only, constant-time snapshot of the volume, charged to its quota group. */
  snapshotVolume(volume: string, checkpoint: string, group: number, freezeFile?: string): Promise<void>;
  /** Makes a writable copy of the checkpoint beside the live volume (the sprite runs on). */
  prepareRestore(volume: string, checkpoint: string, group: number): Promise<void>;
  /**
   * Swaps the prepared copy in (constant time, reverted if half done); returns the old
   * volume's new name, which starts with `.restore-old-<volume>-` and ends with the checkpoint.
   */
  swapInRestore(volume: string, checkpoint: string): Promise<string>;
  /** Puts the old volume back under its name; the restored copy becomes the prepared one. */
  undoRestoreSwap(volume: string, outgoing: string): Promise<void>;
  discardRestore(volume: string): Promise<void>;
  deleteCheckpoint(volume: string, checkpoint: string): Promise<void>;
  deleteCheckpoints(volume: string, group: number | null): Promise<void>;
  /** Volume name → its checkpoints, as found in the pool (for startup reconcile). */
  listCheckpoints(): Promise<Map<string, string[]>>;
  listVolumes(prefix: string): Promise<string[]>;
  /** Host path of the volume's tree (for mounting into a sprite). */
  volumePath(name: string): string;
  /** Flush the volume's dirty data to disk. */
  syncVolume(name: string): Promise<void>;
}

/** Name prefix of a volume replaced by a restore, until the restore is final or undone. */
export const RESTORE_OLD_PREFIX = '.restore-old-';

export class NotSupportedError extends Error {
  constructor(what: string) {
    super(`${what} is not supported by this storage driver`);
    this.name = 'NotSupportedError';
  }
}
