/**
 * The storage seam: a pool of base images, writable volumes cloned from them, and
 * checkpoints of those volumes. Lifecycle decides when; a driver decides how (btrfs
 * subvolumes, plain directories). Callers branch on `info()`, never on the driver's name,
 * and never see the names of a driver's own scratch entries (copies being restored,
 * volumes being deleted).
 */
export interface StorageInfo {
  name: string;
  /** Read-only snapshots of a live volume in constant time (else a copy, in time with its size). */
  snapshots: boolean;
  /** Per-volume size limits (EDQUOT past them); without them `setQuota` limits nothing. */
  quotas: boolean;
}

export interface PoolUsage {
  totalBytes: number;
  usedBytes: number;
  /** What new data may still take (less than total - used on btrfs: metadata and reserves). */
  availableBytes: number;
}

/**
 * Named checkpoints are browsable by their sprite (under `browsableCheckpoints`); auto
 * checkpoints (taken before a restore) are kept apart and never shown there.
 */
export type CheckpointKind = 'named' | 'auto';

export interface CheckpointRef {
  id: string;
  kind: CheckpointKind;
}

/**
 * What `setQuota` returned for a volume. Opaque to callers: they keep it with the volume's
 * owner and pass it back to the calls that take one.
 */
export type QuotaGroup = number;

export interface SnapshotOptions {
  quota: QuotaGroup;
  /**
   * The cgroup freezer file of the processes writing the volume, if any run: they are
   * frozen for the instant of the snapshot (after their dirty data is written out), so the
   * checkpoint is consistent, and thawed after.
   */
  freezeDuring?: string;
}

/** A writable copy of a checkpoint, made beside the live volume and not yet in its place. */
export interface PreparedRestore {
  /**
   * Puts the copy under the volume's name (constant time; nothing may hold the volume).
   * Until the returned swap is committed or reverted, the replaced volume is kept under a
   * name that records the checkpoint, so `settleRestores` can finish or undo it after a crash.
   */
  swapIn(): Promise<RestoreSwap>;
  /** Drops the copy unless it is in place. Idempotent; call it once the restore is over, either way. */
  discard(): Promise<void>;
}

export interface RestoreSwap {
  /** Puts the replaced volume back under its name; the restored copy becomes the prepared one again. */
  revert(): Promise<void>;
  /** Frees the replaced volume: the restore is final. Slow; run it in the background. */
  commit(): Promise<void>;
}

export interface SettledRestores {
  /** Volumes now on the checkpoint they were being restored to. */
  finished: string[];
  /** Volumes back on the disk they had before. */
  undone: string[];
}

export interface StorageDriver {
  info(): StorageInfo;
  /** Make the pool available; true if this call mounted it, false if it already was. */
  mount(): Promise<boolean>;
  /** Unmount the pool (and whatever device holds it). Idempotent. */
  unmount(): Promise<void>;
  /** The pool's size and free space (cheap: callers check it before every create). */
  usage(): Promise<PoolUsage>;

  /** Copy a root filesystem tree into the pool as the read-only image `key`. Idempotent. */
  importImage(key: string, sourceDir: string, onProgress?: (line: string) => void): Promise<void>;

  /** A new writable volume: a copy-on-write clone of image `fromImage`. */
  createVolume(name: string, opts: { fromImage: string }): Promise<void>;
  /** Renames a volume (constant time; its quota goes with it). */
  renameVolume(from: string, to: string): Promise<void>;
  hasVolume(name: string): Promise<boolean>;
  /** Every volume in the pool, by name (a driver's scratch entries are not volumes). */
  listVolumes(): Promise<string[]>;
  /** Host path of the volume's tree (for mounting into a sprite). */
  volumePath(name: string): string;
  /** Removes the volume itself (not its checkpoints). Idempotent. */
  deleteVolume(name: string): Promise<void>;
  /** Removes the volume, all its checkpoints and, given, its quota group. Idempotent. */
  destroyVolume(name: string, quota: QuotaGroup | null): Promise<void>;
  /**
   * Takes the volume off its name at once (constant time) and returns what frees it, its
   * checkpoints and quota group, to run later. Throws (ENOSPC on btrfs) where the pool
   * refuses the move; `destroyVolume` still works then.
   */
  retireVolume(name: string, quota: QuotaGroup | null): Promise<() => Promise<void>>;

  /**
   * Limits what the volume may use, in bytes: the volume plus what its checkpoints and
   * restored copies hold. Returns its quota group; pass that again for the same volume.
   */
  setQuota(volume: string, bytes: number, quota?: QuotaGroup): Promise<QuotaGroup>;

  /** A read-only snapshot of the volume as it is now, charged to its quota. */
  snapshot(volume: string, checkpoint: CheckpointRef, opts: SnapshotOptions): Promise<void>;
  hasCheckpoint(volume: string, checkpoint: CheckpointRef): Promise<boolean>;
  /** Idempotent. */
  deleteCheckpoint(volume: string, checkpoint: CheckpointRef): Promise<void>;
  /** Volume name → its checkpoints, as found in the pool (for startup reconcile). */
  listCheckpoints(): Promise<Map<string, CheckpointRef[]>>;
  /** The directory holding the volume's named checkpoints (made if missing), for browsing. */
  browsableCheckpoints(volume: string): Promise<string>;

  /** Makes a writable copy of the checkpoint beside the live volume (which stays in use meanwhile). */
  prepareRestore(volume: string, checkpoint: CheckpointRef, quota: QuotaGroup): Promise<PreparedRestore>;
  /**
   * After a crash: finishes or undoes the restores that were cut off. `current` names, for
   * each volume, the checkpoint its owner last recorded as restored (the commit point): a
   * swapped-in copy of that checkpoint stays, anything else goes back to the old volume.
   */
  settleRestores(current: ReadonlyMap<string, string | null>): Promise<SettledRestores>;
  /**
   * Deletes the driver's scratch entries (copies not swapped in, volumes retired or replaced)
   * left by a crash; returns how many. Call after `settleRestores`, while nothing else runs.
   */
  reclaimScratch(): Promise<number>;
}
