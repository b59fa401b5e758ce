import { chmod, mkdir, open, readdir, readFile, rename, rm, rmdir } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { helperPath, run } from '../host/index.js';
import { BaseStorageDriver, exists } from './base.js';
import type { CheckpointKind, CheckpointRef, QuotaGroup, SnapshotOptions, StorageInfo } from './driver.js';

export interface BtrfsPoolOptions {
  /** Sparse file holding the filesystem (ignored when `device` is set). */
  imageFile: string;
  /** A real block device to use instead of a loop file. */
  device?: string;
  /** Where the pool is mounted. */
  mountPoint: string;
  /** Size of the sparse file when it is first created. */
  sizeBytes: number;
}

const CHECKPOINT_FOLDERS: Record<CheckpointKind, string> = { named: 'checkpoints', auto: 'auto-checkpoints' };
const CHECKPOINT_KINDS = Object.keys(CHECKPOINT_FOLDERS) as CheckpointKind[];

/**
 * btrfs in a sparse loop file (or on a device). Images are read-only subvolumes under
 * images/, sprite volumes writable snapshots of them under volumes/, sized by qgroups.
 */
export class BtrfsDriver extends BaseStorageDriver {
  constructor(private readonly opts: BtrfsPoolOptions) {
    super(opts.mountPoint);
  }

  info(): StorageInfo {
    return { name: 'btrfs', snapshots: true, quotas: true };
  }

  private async isMounted(): Promise<boolean> {
    const mounts = await readFile('/proc/self/mounts', 'utf8');
    return mounts.split('\n').some((line) => {
      const [, target, type] = line.split(' ');
      return target === this.root && type === 'btrfs';
    });
  }

  async mount(): Promise<boolean> {
    if (await this.isMounted()) {
      await this.closeToOthers();
      return false;
    }
    await mkdir(this.root, { recursive: true, mode: 0o700 });
    let source = this.opts.device;
    if (!source) {
      source = this.opts.imageFile;
      if (!(await exists(source))) {
        // Format under a temporary name so a failed first start never leaves a half-made pool.
        const fresh = `${source}.new`;
        await rm(fresh, { force: true });
        await createSparse(fresh, this.opts.sizeBytes);
        await run('mkfs.btrfs', ['-q', '-L', 'sprites', fresh]);
        await rename(fresh, source);
      }
    } else {
      const probe = await run('blkid', ['-o', 'value', '-s', 'TYPE', source], { okCodes: [2] });
      if (probe.stdout.trim() !== 'btrfs') await run('mkfs.btrfs', ['-q', '-L', 'sprites', source]);
    }
    // noatime: an atime update is a metadata write, and in a fresh snapshot a copy-on-write.
    const options = ['compress=zstd:1', 'noatime', 'user_subvol_rm_allowed', ...(this.opts.device ? [] : ['loop'])];
    await run('mount', ['-t', 'btrfs', '-o', options.join(','), source, this.root]);
    // Quotas are what cap a sprite's disk (simple quotas where the kernel has them; ADR 0001).
    // Enabling them again is a no-op.
    await run(helperPath(), ['quota-enable', this.root]);
    await this.closeToOthers();
    return true;
  }

  /**
   * Host users other than root never reach into the pool (DESIGN 5.7): its root (the
   * filesystem's own top directory, 0755 from mkfs) and the folders below it are 0700,
   * also on a pool an older daemon made.
   */
  private async closeToOthers(): Promise<void> {
    await chmod(this.root, 0o700);
    for (const dir of ['images', 'volumes', ...Object.values(CHECKPOINT_FOLDERS)]) {
      await mkdir(join(this.root, dir), { recursive: true, mode: 0o700 });
      await chmod(join(this.root, dir), 0o700);
    }
  }

  async unmount(): Promise<void> {
    if (!(await this.isMounted())) return;
    const mounts = await readFile('/proc/self/mounts', 'utf8');
    const device = mounts
      .split('\n')
      .map((l) => l.split(' '))
      .find(([, target, type]) => target === this.root && type === 'btrfs')?.[0];
    await run('umount', [this.root]);
    if (!this.opts.device && device?.startsWith('/dev/loop')) await this.releaseLoop(device);
  }

  /**
   * A loop mount made with -o loop is set to autoclear, but the device goes only when the
   * last reference to the filesystem does: a moment after umount returns, later while a
   * mount namespace of a just-stopped sprite is still being torn down. Wait for it (up to
   * 10 s), then detach it ourselves, so a stopped daemon holds no loop device.
   */
  private async releaseLoop(device: string): Promise<void> {
    // `losetup DEVICE` fails (1) once nothing is attached to it.
    const attached = async () =>
      (await run('losetup', [device], { okCodes: [1] })).stdout.includes(this.opts.imageFile);
    for (let i = 0; i < 100; i++) {
      if (!(await attached())) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    await run('losetup', ['-d', device], { okCodes: [1] }).catch(() => undefined);
  }

  private async hasImage(key: string): Promise<boolean> {
    return exists(this.imagePath(key));
  }

  async importImage(key: string, sourceDir: string, onProgress?: (line: string) => void): Promise<void> {
    if (await this.hasImage(key)) return;
    const partial = join(this.root, 'images', `.partial-${key}`);
    await this.deleteSubvolume(partial);
    onProgress?.(`importing base image ${key.slice(0, 12)} into the storage pool`);
    await run('btrfs', ['subvolume', 'create', partial]);
    try {
      await run('cp', ['-a', '--reflink=auto', `${sourceDir}/.`, `${partial}/`]);
      // A read-only snapshot under the final name appears atomically and only when complete.
      await run('btrfs', ['subvolume', 'snapshot', '-r', partial, this.imagePath(key)]);
    } finally {
      await this.deleteSubvolume(partial);
    }
    onProgress?.('base image imported');
  }

  async createVolume(name: string, opts: { fromImage: string }): Promise<void> {
    await run('btrfs', ['subvolume', 'snapshot', this.imagePath(opts.fromImage), this.volumePath(name)]);
  }

  protected async listEntries(): Promise<string[]> {
    return readdir(join(this.root, 'volumes')).catch(() => [] as string[]);
  }

  protected hasEntry(name: string): Promise<boolean> {
    return exists(this.volumePath(name));
  }

  /** Constant time; a quota group goes with its subvolume. */
  protected async renameEntry(from: string, to: string): Promise<void> {
    await rename(this.volumePath(from), this.volumePath(to));
  }

  protected async deleteEntry(name: string): Promise<void> {
    await this.deleteSubvolume(this.volumePath(name));
  }

  private async deleteSubvolume(path: string): Promise<void> {
    if (!(await exists(path))) return;
    const id = await this.subvolumeId(path).catch(() => null);
    // --commit-after so the space and the qgroup are really gone when we return.
    const deleted = await run('btrfs', ['subvolume', 'delete', '--commit-after', path], { okCodes: [1] });
    if (deleted.code !== 0) {
      // A subvolume inside it (made before sprites were kept from making them, ADR 0018)
      // makes a plain delete fail: remove those first, deepest first, then try again.
      if (id === null || !/not empty/i.test(deleted.stderr))
        throw new Error(`btrfs subvolume delete ${path}: ${deleted.stderr.trim()}`);
      for (const nested of await this.nestedSubvolumes(id, path)) await this.deleteSubvolumeById(nested);
      await run('btrfs', ['subvolume', 'delete', '--commit-after', path]);
    }
    if (id !== null) await this.destroyQgroup(`0/${id}`);
  }

  private async deleteSubvolumeById(id: number): Promise<void> {
    await run('btrfs', ['subvolume', 'delete', '--commit-after', '--subvolid', String(id), this.root]);
    await this.destroyQgroup(`0/${id}`);
  }

  private async destroyQgroup(group: string): Promise<void> {
    await run('btrfs', ['qgroup', 'destroy', group, this.root], { okCodes: [1] }).catch(() => undefined);
  }

  /**
   * Ids of the subvolumes below subvolume `id` (at `path`), deepest first. The listing is
   * text with names a sprite chose (a newline in one could forge a line), so each candidate
   * is checked: the kernel's own path of its id must lie inside `path`.
   */
  private async nestedSubvolumes(id: number, path: string): Promise<number[]> {
    const { stdout } = await run('btrfs', ['subvolume', 'list', this.root]);
    const parentOf = new Map<number, number>();
    for (const line of stdout.split('\n')) {
      const m = /^ID (\d+) gen \d+ top level (\d+) path /.exec(line);
      if (m) parentOf.set(Number(m[1]), Number(m[2]));
    }
    const depth = (child: number): number => {
      let d = 0;
      for (let p = parentOf.get(child); p !== undefined && d < 4096; p = parentOf.get(p)) {
        d++;
        if (p === id) return d;
      }
      return 0;
    };
    const inside = `${relative(this.root, path)}/`;
    const found: { id: number; depth: number }[] = [];
    for (const child of parentOf.keys()) {
      const d = depth(child);
      if (d === 0) continue;
      const real = await run('btrfs', ['inspect-internal', 'subvolid-resolve', String(child), this.root], {
        okCodes: [1],
      });
      if (real.code === 0 && real.stdout.startsWith(inside)) found.push({ id: child, depth: d });
    }
    return found.sort((a, b) => b.depth - a.depth).map((f) => f.id);
  }

  private async subvolumeId(path: string): Promise<number> {
    const { stdout } = await run('btrfs', ['inspect-internal', 'rootid', path]);
    return Number(stdout.trim());
  }

  /**
   * The limit sits on a level-1 quota group (1/N) holding the volume and, later, its
   * checkpoints and restored volumes: what checkpoints keep alive counts against the sprite,
   * and a restore does not reset it (ADR 0011). N is the volume's first subvolume id unless
   * the sprite already has a group.
   */
  async setQuota(name: string, bytes: number, group?: QuotaGroup): Promise<QuotaGroup> {
    if (group !== undefined) {
      // The sprite's volume is in its group already (made there, or by restore with -i).
      await run('btrfs', ['qgroup', 'limit', String(bytes), `1/${group}`, this.root]);
      return group;
    }
    const id = await this.subvolumeId(this.volumePath(name));
    await this.ensureGroup(id);
    await run('btrfs', ['qgroup', 'assign', `0/${id}`, `1/${id}`, this.root], { okCodes: [1] });
    await run('btrfs', ['qgroup', 'limit', String(bytes), `1/${id}`, this.root]);
    return id;
  }

  private async ensureGroup(group: number): Promise<void> {
    const made = await run('btrfs', ['qgroup', 'create', `1/${group}`, this.root], { okCodes: [1] });
    if (made.code === 1 && !/exists/i.test(made.stderr))
      throw new Error(`btrfs qgroup create 1/${group}: ${made.stderr.trim()}`);
  }

  /**
   * Named checkpoints live in checkpoints/<volume>/ (the directory the sprite browses), auto
   * checkpoints apart in auto-checkpoints/<volume>/ so browsing never shows them.
   */
  private checkpointPath(volume: string, checkpoint: CheckpointRef): string {
    return join(this.checkpointsDirOf(volume, checkpoint.kind), checkpoint.id);
  }

  private checkpointsDirOf(volume: string, kind: CheckpointKind): string {
    return join(this.root, CHECKPOINT_FOLDERS[kind], volume);
  }

  async browsableCheckpoints(volume: string): Promise<string> {
    const dir = this.checkpointsDirOf(volume, 'named');
    await makeDir(dir);
    return dir;
  }

  async hasCheckpoint(volume: string, checkpoint: CheckpointRef): Promise<boolean> {
    return exists(this.checkpointPath(volume, checkpoint));
  }

  /**
   * A read-only snapshot of the volume, in the sprite's quota group. With `freezeDuring`
   * the writers are frozen around it, after a first sync: one helper process does syncfs,
   * freeze, syncfs, snapshot, thaw.
   */
  async snapshot(volume: string, checkpoint: CheckpointRef, opts: SnapshotOptions): Promise<void> {
    const dir = this.checkpointsDirOf(volume, checkpoint.kind);
    const made = await makeDir(dir);
    try {
      await run(helperPath(), [
        'snapshot',
        '-r',
        '-g',
        String(opts.quota),
        ...(opts.freezeDuring ? ['-f', opts.freezeDuring] : []),
        this.volumePath(volume),
        dir,
        checkpoint.id,
      ]);
    } catch (e) {
      // A refused first checkpoint (the pool full) leaves no empty directory behind.
      if (made) await rmdir(dir).catch(() => undefined);
      throw e;
    }
  }

  /** A writable snapshot of the checkpoint, in the sprite's quota group. */
  protected async copyCheckpoint(
    volume: string,
    checkpoint: CheckpointRef,
    quota: QuotaGroup,
    entry: string,
  ): Promise<void> {
    await run(helperPath(), [
      'snapshot',
      '-g',
      String(quota),
      this.checkpointPath(volume, checkpoint),
      join(this.root, 'volumes'),
      entry,
    ]);
  }

  async deleteCheckpoint(volume: string, checkpoint: CheckpointRef): Promise<void> {
    await this.deleteSubvolume(this.checkpointPath(volume, checkpoint));
  }

  /** Volumes with a checkpoints directory, and the checkpoints in each. */
  async listCheckpoints(): Promise<Map<string, CheckpointRef[]>> {
    const out = new Map<string, CheckpointRef[]>();
    for (const kind of CHECKPOINT_KINDS) {
      const root = join(this.root, CHECKPOINT_FOLDERS[kind]);
      for (const volume of await readdir(root).catch(() => [] as string[])) {
        const found = await readdir(join(root, volume)).catch(() => [] as string[]);
        out.set(volume, [...(out.get(volume) ?? []), ...found.map((id) => ({ id, kind }))]);
      }
    }
    return out;
  }

  /** Every checkpoint of a volume, and the quota group: when the sprite is deleted. */
  protected async deleteCheckpointsOf(volume: string, group: QuotaGroup | null): Promise<void> {
    for (const kind of CHECKPOINT_KINDS) {
      const dir = this.checkpointsDirOf(volume, kind);
      for (const name of await readdir(dir).catch(() => [] as string[])) await this.deleteSubvolume(join(dir, name));
      await rm(dir, { recursive: true, force: true });
    }
    if (group !== null) await this.destroySpriteGroup(group);
  }

  /**
   * Destroys the sprite's level-1 quota group. Its members (the level-0 groups of subvolumes
   * just deleted) stay until btrfs's cleaner has dropped those subvolumes, and a group with
   * members cannot go (EBUSY, measured: about one time in 40 right after a delete). Then it
   * waits for the cleaner (`subvolume sync`, about a second) and tries again, so no empty
   * group is left behind. A group that is already gone is fine.
   */
  private async destroySpriteGroup(group: number): Promise<void> {
    const destroy = () => run('btrfs', ['qgroup', 'destroy', `1/${group}`, this.root], { okCodes: [1] });
    const first = await destroy();
    if (first.code === 0 || /No such file/i.test(first.stderr)) return;
    const { stdout } = await run('btrfs', ['qgroup', 'show', '-c', this.root]);
    const line = stdout.split('\n').find((l) => l.startsWith(`1/${group} `)) ?? '';
    const members = (line.trim().split(/\s+/)[3] ?? '')
      .split(',')
      .map((m) => /^0\/(\d+)$/.exec(m)?.[1])
      .filter((id): id is string => id !== undefined);
    if (members.length > 0) {
      await run('btrfs', ['subvolume', 'sync', this.root, ...members], { timeoutMs: 60_000, okCodes: [1] });
      for (const id of members) await this.destroyQgroup(`0/${id}`);
    }
    const second = await destroy();
    if (second.code !== 0 && !/No such file/i.test(second.stderr))
      throw new Error(`btrfs qgroup destroy 1/${group}: ${second.stderr.trim()}`);
  }
}

/**
 * mkdir of a directory whose parent exists (the pool's top folders are made at mount); true
 * if it made it. Not recursive: Node's recursive mkdir turns ENOSPC (a pool out of metadata
 * space) into ENOENT, and the full pool must be reported as such.
 */
async function makeDir(path: string): Promise<boolean> {
  try {
    await mkdir(path);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw e;
  }
}

/** Create a sparse file of `size` bytes; fails if it exists. */
async function createSparse(path: string, size: number): Promise<void> {
  const handle = await open(path, 'wx', 0o600);
  try {
    await handle.truncate(size);
  } finally {
    await handle.close();
  }
}
