import { chmod, mkdir, open, readdir, readFile, rename, rm, rmdir, stat, statfs } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { helperPath, run } from '../host/index.js';
import { RESTORE_OLD_PREFIX, type PoolUsage, type StorageDriver, type StorageInfo } from './driver.js';

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

/**
 * btrfs in a sparse loop file (or on a device). Images are read-only subvolumes under
 * images/, sprite volumes writable snapshots of them under volumes/, sized by qgroups.
 */
export class BtrfsDriver implements StorageDriver {
  /** Simple quotas count what a volume writes itself; full qgroups also count what it shares. */
  quotaMode: 'simple' | 'full' | 'unknown' = 'unknown';

  constructor(private readonly opts: BtrfsPoolOptions) {}

  info(): StorageInfo {
    return { name: 'btrfs', snapshots: true, quotas: true };
  }

  private get root(): string {
    return this.opts.mountPoint;
  }

  async isMounted(): Promise<boolean> {
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
    const { stdout } = await run(helperPath(), ['quota-enable', this.root]);
    this.quotaMode = stdout.trim() === 'simple' ? 'simple' : 'full';
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
    for (const dir of ['images', 'volumes', 'checkpoints', 'auto-checkpoints']) {
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

  private imagePath(key: string): string {
    return join(this.root, 'images', key);
  }

  volumePath(name: string): string {
    return join(this.root, 'volumes', name);
  }

  async hasImage(key: string): Promise<boolean> {
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

  async renameVolume(from: string, to: string): Promise<void> {
    await rename(this.volumePath(from), this.volumePath(to));
  }

  async hasVolume(name: string): Promise<boolean> {
    return exists(this.volumePath(name));
  }

  async deleteVolume(name: string): Promise<void> {
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
  async setQuota(name: string, bytes: number, group?: number): Promise<number> {
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
  checkpointPath(volume: string, checkpoint: string): string {
    return join(this.checkpointsDirOf(volume, checkpoint.startsWith('auto-')), checkpoint);
  }

  private checkpointsDirOf(volume: string, auto: boolean): string {
    return join(this.root, auto ? 'auto-checkpoints' : 'checkpoints', volume);
  }

  async browsableCheckpoints(volume: string): Promise<string> {
    const dir = this.checkpointsDirOf(volume, false);
    await makeDir(dir);
    return dir;
  }

  async hasCheckpoint(volume: string, checkpoint: string): Promise<boolean> {
    return exists(this.checkpointPath(volume, checkpoint));
  }

  /**
   * A read-only snapshot of the volume, in the sprite's quota group. With `freezeFile` (the
   * sprite's cgroup freezer) the sprite is frozen around it, after a first sync: one helper
   * process does syncfs, freeze, syncfs, snapshot, thaw.
   */
  async snapshotVolume(volume: string, checkpoint: string, group: number, freezeFile?: string): Promise<void> {
    const dir = this.checkpointsDirOf(volume, checkpoint.startsWith('auto-'));
    const made = await makeDir(dir);
    try {
      await run(helperPath(), [
        'snapshot',
        '-r',
        '-g',
        String(group),
        ...(freezeFile ? ['-f', freezeFile] : []),
        this.volumePath(volume),
        dir,
        checkpoint,
      ]);
    } catch (e) {
      // A refused first checkpoint (the pool full) leaves no empty directory behind.
      if (made) await rmdir(dir).catch(() => undefined);
      throw e;
    }
  }

  /** Makes `.restore-<volume>`, a writable snapshot of the checkpoint, beside the live volume. */
  async prepareRestore(volume: string, checkpoint: string, group: number): Promise<void> {
    const incoming = `.restore-${volume}`;
    await this.deleteSubvolume(this.volumePath(incoming));
    await run(helperPath(), [
      'snapshot',
      '-g',
      String(group),
      this.checkpointPath(volume, checkpoint),
      join(this.root, 'volumes'),
      incoming,
    ]);
  }

  /**
   * Swaps the prepared copy in by two renames. The old volume moves to
   * `.restore-old-<volume>-<checkpoint>`, which names the checkpoint being restored so that
   * startup can tell a finished restore (the registry names that checkpoint) from one to
   * undo. If the second rename fails the first is reverted. Returns the old volume's name.
   */
  async swapInRestore(volume: string, checkpoint: string): Promise<string> {
    const outgoing = `${RESTORE_OLD_PREFIX}${volume}-${checkpoint}`;
    await rename(this.volumePath(volume), this.volumePath(outgoing));
    try {
      await rename(this.volumePath(`.restore-${volume}`), this.volumePath(volume));
    } catch (e) {
      await rename(this.volumePath(outgoing), this.volumePath(volume));
      throw e;
    }
    return outgoing;
  }

  /**
   * Puts the old volume back after `swapInRestore` (or after half of it: the live name may
   * be missing). The restored copy becomes the prepared one again, for `discardRestore`.
   */
  async undoRestoreSwap(volume: string, outgoing: string): Promise<void> {
    if (!(await exists(this.volumePath(outgoing))))
      throw new Error(`the replaced volume ${outgoing} is gone; cannot put it back`);
    if (await exists(this.volumePath(volume))) {
      await this.deleteSubvolume(this.volumePath(`.restore-${volume}`));
      await rename(this.volumePath(volume), this.volumePath(`.restore-${volume}`));
    }
    await rename(this.volumePath(outgoing), this.volumePath(volume));
  }

  /** Drops a prepared copy that will not be swapped in. */
  async discardRestore(volume: string): Promise<void> {
    await this.deleteSubvolume(this.volumePath(`.restore-${volume}`));
  }

  async deleteCheckpoint(volume: string, checkpoint: string): Promise<void> {
    await this.deleteSubvolume(this.checkpointPath(volume, checkpoint));
  }

  /** Volumes with a checkpoints directory, and the checkpoints in each. */
  async listCheckpoints(): Promise<Map<string, string[]>> {
    const out = new Map<string, string[]>();
    for (const kind of ['checkpoints', 'auto-checkpoints']) {
      const root = join(this.root, kind);
      for (const volume of await readdir(root).catch(() => [] as string[])) {
        const found = await readdir(join(root, volume)).catch(() => [] as string[]);
        out.set(volume, [...(out.get(volume) ?? []), ...found]);
      }
    }
    return out;
  }

  /** Every checkpoint of a volume, and the quota group: when the sprite is deleted. */
  async deleteCheckpoints(volume: string, group: number | null): Promise<void> {
    for (const dir of [this.checkpointsDirOf(volume, false), this.checkpointsDirOf(volume, true)]) {
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

  async listVolumes(prefix: string): Promise<string[]> {
    try {
      return (await readdir(join(this.root, 'volumes'))).filter((n) => n.startsWith(prefix));
    } catch {
      return [];
    }
  }

  async syncVolume(name: string): Promise<void> {
    await run('sync', ['-f', this.volumePath(name)]);
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

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
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
