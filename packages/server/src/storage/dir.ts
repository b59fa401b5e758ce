import { mkdir, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { run } from '../host/index.js';
import { BaseStorageDriver, exists } from './base.js';
import type { CheckpointKind, CheckpointRef, QuotaGroup, SnapshotOptions, StorageInfo } from './driver.js';

const CHECKPOINT_FOLDERS: Record<CheckpointKind, string> = { named: 'checkpoints', auto: 'auto-checkpoints' };
const CHECKPOINT_KINDS = Object.keys(CHECKPOINT_FOLDERS) as CheckpointKind[];
/** Copies in progress carry this prefix until they are complete; listings skip them. */
const PARTIAL = '.partial-';

/**
 * Plain directories on any filesystem, no root needed: for development and for tests of the
 * code above the seam. The layout mirrors btrfs's (images/, volumes/, checkpoints/,
 * auto-checkpoints/), but a clone, a snapshot and a restore are full copies (`cp -a`, with
 * reflinks where the filesystem has them) and nothing limits a volume's size.
 */
export class DirDriver extends BaseStorageDriver {
  constructor(root: string) {
    super(root);
  }

  info(): StorageInfo {
    return { name: 'dir', snapshots: false, quotas: false };
  }

  /** Nothing to mount: makes the folders; false, as the directory is always there. */
  async mount(): Promise<boolean> {
    await mkdir(this.root, { recursive: true, mode: 0o700 });
    for (const dir of ['images', 'volumes', ...Object.values(CHECKPOINT_FOLDERS)])
      await mkdir(join(this.root, dir), { recursive: true, mode: 0o700 });
    return false;
  }

  async unmount(): Promise<void> {}

  async importImage(key: string, sourceDir: string, onProgress?: (line: string) => void): Promise<void> {
    if (await exists(this.imagePath(key))) return;
    onProgress?.(`importing base image ${key.slice(0, 12)} into the storage pool`);
    await copyTree(sourceDir, this.imagePath(key));
    onProgress?.('base image imported');
  }

  async createVolume(name: string, opts: { fromImage: string }): Promise<void> {
    if (await exists(this.volumePath(name))) throw new Error(`volume ${name} exists`);
    await copyTree(this.imagePath(opts.fromImage), this.volumePath(name));
  }

  protected async listEntries(): Promise<string[]> {
    const names = await readdir(join(this.root, 'volumes')).catch(() => [] as string[]);
    return names.filter((n) => !n.startsWith(PARTIAL));
  }

  protected hasEntry(name: string): Promise<boolean> {
    return exists(this.volumePath(name));
  }

  protected async renameEntry(from: string, to: string): Promise<void> {
    // rename(2) replaces an empty directory; a volume name must not be taken over.
    if (await exists(this.volumePath(to))) throw new Error(`cannot rename volume ${from}: ${to} exists`);
    await rename(this.volumePath(from), this.volumePath(to));
  }

  protected async deleteEntry(name: string): Promise<void> {
    await removeTree(this.volumePath(name));
  }

  /** Nothing is limited; the group is only handed back. */
  async setQuota(_volume: string, _bytes: number, quota?: QuotaGroup): Promise<QuotaGroup> {
    return Promise.resolve(quota ?? 0);
  }

  private checkpointsDirOf(volume: string, kind: CheckpointKind): string {
    return join(this.root, CHECKPOINT_FOLDERS[kind], volume);
  }

  private checkpointPath(volume: string, checkpoint: CheckpointRef): string {
    return join(this.checkpointsDirOf(volume, checkpoint.kind), checkpoint.id);
  }

  async browsableCheckpoints(volume: string): Promise<string> {
    const dir = this.checkpointsDirOf(volume, 'named');
    await mkdir(dir, { recursive: true, mode: 0o700 });
    return dir;
  }

  hasCheckpoint(volume: string, checkpoint: CheckpointRef): Promise<boolean> {
    return exists(this.checkpointPath(volume, checkpoint));
  }

  /** A copy of the volume, its writers frozen (if given) while it is made. */
  async snapshot(volume: string, checkpoint: CheckpointRef, opts: SnapshotOptions): Promise<void> {
    const target = this.checkpointPath(volume, checkpoint);
    if (await exists(target)) throw new Error(`checkpoint ${checkpoint.id} of ${volume} exists`);
    await mkdir(this.checkpointsDirOf(volume, checkpoint.kind), { recursive: true, mode: 0o700 });
    const thaw = opts.freezeDuring ? await freeze(opts.freezeDuring) : null;
    try {
      await copyTree(this.volumePath(volume), target);
    } finally {
      await thaw?.();
    }
  }

  protected async copyCheckpoint(
    volume: string,
    checkpoint: CheckpointRef,
    _quota: QuotaGroup,
    entry: string,
  ): Promise<void> {
    await copyTree(this.checkpointPath(volume, checkpoint), this.volumePath(entry));
  }

  async deleteCheckpoint(volume: string, checkpoint: CheckpointRef): Promise<void> {
    await removeTree(this.checkpointPath(volume, checkpoint));
  }

  async listCheckpoints(): Promise<Map<string, CheckpointRef[]>> {
    const out = new Map<string, CheckpointRef[]>();
    for (const kind of CHECKPOINT_KINDS) {
      const root = join(this.root, CHECKPOINT_FOLDERS[kind]);
      for (const volume of await readdir(root).catch(() => [] as string[])) {
        const found = (await readdir(join(root, volume)).catch(() => [] as string[])).filter(
          (n) => !n.startsWith(PARTIAL),
        );
        out.set(volume, [...(out.get(volume) ?? []), ...found.map((id) => ({ id, kind }))]);
      }
    }
    return out;
  }

  protected async deleteCheckpointsOf(volume: string): Promise<void> {
    for (const kind of CHECKPOINT_KINDS) await removeTree(this.checkpointsDirOf(volume, kind));
  }
}

/** Copies a tree under a temporary name first, so `target` appears only when complete. */
async function copyTree(source: string, target: string): Promise<void> {
  const partial = join(target, '..', `${PARTIAL}${basename(target)}`);
  await removeTree(partial);
  try {
    await run('cp', ['-a', '--reflink=auto', source, partial]);
    await rename(partial, target);
  } catch (e) {
    await removeTree(partial);
    throw e;
  }
}

/** rm -rf, also of trees holding read-only directories (a root filesystem has some, e.g. /proc). */
async function removeTree(path: string): Promise<void> {
  try {
    await rm(path, { recursive: true, force: true });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EACCES') throw e;
    await run('chmod', ['-R', 'u+w', path]);
    await rm(path, { recursive: true, force: true });
  }
}

/** Freezes a cgroup through its freezer file (v1 `freezer.state` or v2 `cgroup.freeze`); returns the thaw. */
async function freeze(freezerFile: string): Promise<() => Promise<void>> {
  const v1 = basename(freezerFile) === 'freezer.state';
  await writeFile(freezerFile, v1 ? 'FROZEN' : '1');
  return () => writeFile(freezerFile, v1 ? 'THAWED' : '0');
}
