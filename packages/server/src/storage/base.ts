import { stat, statfs } from 'node:fs/promises';
import { join } from 'node:path';
import type {
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

/**
 * Names of a driver's scratch entries beside the volumes (the same on every driver, and
 * kept as they were: pools written by older daemons are settled by them). Nothing outside
 * this room knows them.
 */
const scratch = {
  /** A checkpoint's writable copy, before it is swapped in. */
  incoming: (volume: string) => `.restore-${volume}`,
  /**
   * A volume replaced by a restore, until the restore is final or undone. It names the
   * checkpoint restored, so startup tells a finished restore from one to undo.
   */
  outgoingPrefix: (volume: string) => `.restore-old-${volume}-`,
  /** A deleted volume, freed in the background. */
  trash: (volume: string) => `trash-${volume}`,
  /** What an older daemon named a volume replaced by a restore: `trash-<volume>-<time>`. */
  legacyOutgoingPrefix: (volume: string) => `trash-${volume}-`,
  is: (name: string) => name.startsWith('.restore-') || name.startsWith('trash-'),
};

/**
 * What every driver shares (incus's driver_common): the restore protocol, retiring volumes
 * and crash recovery over a few primitives on the entries of the volume folder.
 */
export abstract class BaseStorageDriver implements StorageDriver {
  /** The pool's tree: images/ and volumes/ under it on every driver. */
  protected constructor(protected readonly root: string) {}

  /**
   * What `df` shows, from one statfs call (microseconds: cheap enough for every create). On
   * btrfs `bavail` is the data space still free, unallocated chunks included.
   */
  async usage(): Promise<PoolUsage> {
    const s = await statfs(this.root);
    return {
      totalBytes: s.blocks * s.bsize,
      usedBytes: (s.blocks - s.bfree) * s.bsize,
      availableBytes: s.bavail * s.bsize,
    };
  }

  protected imagePath(key: string): string {
    return join(this.root, 'images', key);
  }

  volumePath(name: string): string {
    return join(this.root, 'volumes', name);
  }

  abstract info(): StorageInfo;
  abstract mount(): Promise<boolean>;
  abstract unmount(): Promise<void>;
  abstract importImage(key: string, sourceDir: string, onProgress?: (line: string) => void): Promise<void>;
  abstract createVolume(name: string, opts: { fromImage: string }): Promise<void>;
  abstract setQuota(volume: string, bytes: number, quota?: QuotaGroup): Promise<QuotaGroup>;
  abstract snapshot(volume: string, checkpoint: CheckpointRef, opts: SnapshotOptions): Promise<void>;
  abstract hasCheckpoint(volume: string, checkpoint: CheckpointRef): Promise<boolean>;
  abstract deleteCheckpoint(volume: string, checkpoint: CheckpointRef): Promise<void>;
  abstract listCheckpoints(): Promise<Map<string, CheckpointRef[]>>;
  abstract browsableCheckpoints(volume: string): Promise<string>;

  /** Names of everything in the volume folder, scratch entries included. */
  protected abstract listEntries(): Promise<string[]>;
  protected abstract hasEntry(name: string): Promise<boolean>;
  /** Constant time; fails if `to` exists. */
  protected abstract renameEntry(from: string, to: string): Promise<void>;
  /** Idempotent. */
  protected abstract deleteEntry(name: string): Promise<void>;
  /** A writable copy of the checkpoint as entry `entry` (which does not exist), charged to `quota`. */
  protected abstract copyCheckpoint(
    volume: string,
    checkpoint: CheckpointRef,
    quota: QuotaGroup,
    entry: string,
  ): Promise<void>;
  /** The volume's checkpoints and, given, its quota group (its volume already gone). Idempotent. */
  protected abstract deleteCheckpointsOf(volume: string, quota: QuotaGroup | null): Promise<void>;

  renameVolume(from: string, to: string): Promise<void> {
    return this.renameEntry(from, to);
  }

  hasVolume(name: string): Promise<boolean> {
    return this.hasEntry(name);
  }

  async listVolumes(): Promise<string[]> {
    return (await this.listEntries()).filter((name) => !scratch.is(name));
  }

  deleteVolume(name: string): Promise<void> {
    return this.deleteEntry(name);
  }

  async destroyVolume(name: string, quota: QuotaGroup | null): Promise<void> {
    await this.deleteEntry(name);
    // The quota group goes last: it can only go once the volumes in it have.
    await this.deleteCheckpointsOf(name, quota);
  }

  async retireVolume(name: string, quota: QuotaGroup | null): Promise<() => Promise<void>> {
    const trash = scratch.trash(name);
    const moved = await this.hasEntry(name);
    if (moved) await this.renameEntry(name, trash);
    return async () => {
      if (moved) await this.deleteEntry(trash);
      await this.deleteCheckpointsOf(name, quota);
    };
  }

  async prepareRestore(volume: string, checkpoint: CheckpointRef, quota: QuotaGroup): Promise<PreparedRestore> {
    const incoming = scratch.incoming(volume);
    await this.deleteEntry(incoming);
    await this.copyCheckpoint(volume, checkpoint, quota, incoming);
    return {
      swapIn: () => this.swapIn(volume, checkpoint.id),
      discard: () => this.deleteEntry(incoming),
    };
  }

  /**
   * Two renames; if the second fails the first is reverted. The replaced volume's name ends
   * with the checkpoint restored (see `scratch.outgoingPrefix`).
   */
  private async swapIn(volume: string, checkpointId: string): Promise<RestoreSwap> {
    const outgoing = `${scratch.outgoingPrefix(volume)}${checkpointId}`;
    await this.renameEntry(volume, outgoing);
    try {
      await this.renameEntry(scratch.incoming(volume), volume);
    } catch (e) {
      await this.renameEntry(outgoing, volume);
      throw e;
    }
    return {
      revert: () => this.putBack(volume, outgoing),
      commit: () => this.deleteEntry(outgoing),
    };
  }

  /**
   * Puts the replaced volume back after a swap (or half of one: the live name may be
   * missing). The restored copy becomes the incoming one again, for `discard` or reclaim.
   */
  private async putBack(volume: string, outgoing: string): Promise<void> {
    if (!(await this.hasEntry(outgoing)))
      throw new Error(`the replaced volume ${outgoing} is gone; cannot put it back`);
    if (await this.hasEntry(volume)) {
      await this.deleteEntry(scratch.incoming(volume));
      await this.renameEntry(volume, scratch.incoming(volume));
    }
    await this.renameEntry(outgoing, volume);
  }

  async settleRestores(current: ReadonlyMap<string, string | null>): Promise<SettledRestores> {
    const settled: SettledRestores = { finished: [], undone: [] };
    const entries = await this.listEntries();
    const present = new Set(entries);
    for (const [volume, checkpoint] of current) {
      const prefix = scratch.outgoingPrefix(volume);
      const outgoing = entries.find((n) => n.startsWith(prefix));
      const live = present.has(volume);
      if (outgoing) {
        if (live && checkpoint === outgoing.slice(prefix.length)) {
          await this.deleteEntry(outgoing);
          settled.finished.push(volume);
        } else {
          await this.putBack(volume, outgoing);
          settled.undone.push(volume);
        }
        continue;
      }
      if (live) continue;
      // An older daemon's names: the replaced volume as trash-<volume>-<time>, the copy as incoming.
      const legacy = entries
        .filter((n) => n.startsWith(scratch.legacyOutgoingPrefix(volume)))
        .sort()
        .at(-1);
      if (legacy) {
        await this.renameEntry(legacy, volume);
        settled.undone.push(volume);
      } else if (present.has(scratch.incoming(volume))) {
        await this.renameEntry(scratch.incoming(volume), volume);
        settled.finished.push(volume);
      }
    }
    return settled;
  }

  async reclaimScratch(): Promise<number> {
    let deleted = 0;
    for (const name of await this.listEntries()) {
      if (!scratch.is(name)) continue;
      await this.deleteEntry(name);
      deleted++;
    }
    return deleted;
  }
}

/** Whether anything is at the path (for the drivers' idempotent steps). */
export async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}
