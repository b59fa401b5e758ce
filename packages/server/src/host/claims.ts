import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pidAlive } from './pid.js';

/** Every index of a kind is held (by this daemon or others on the host). */
export class ClaimsExhaustedError extends Error {
  constructor(
    readonly kind: string,
    readonly size: number,
  ) {
    super(`no free ${kind} claim left (all ${size} are in use on this host)`);
    this.name = 'ClaimsExhaustedError';
  }
}

/**
 * Host-wide numbered claims shared by every daemon on the machine: network slots and uid
 * ranges must not collide even between daemons with different data dirs. A claim is a
 * directory holding the owner's instance id; it appears complete or not at all (made under a
 * temporary name, then renamed, which fails if the index is taken).
 */
export class HostClaims {
  /**
   * Where the next search starts: just past the last index handed out, so a released index
   * is reused only after every other free one was. A network address freed by a stopped
   * sprite is not given to another sprite at once, while anything that still points at it
   * (a cached route, a client's open connection) fades out.
   */
  private nextHint = 0;

  constructor(
    private readonly root: string,
    private readonly kind: string,
    private readonly instanceId: string,
    private readonly size: number,
  ) {}

  private dir(): string {
    return join(this.root, this.kind);
  }

  /**
   * Claim the first free index at or after `hint` (default: after the last one this instance
   * handed out), wrapping around; throws when all are taken.
   */
  async acquire(owner: string, hint = this.nextHint): Promise<number> {
    const taken = new Set(await readdir(this.dir()).catch(() => [] as string[]));
    for (let i = 0; i < this.size; i++) {
      const index = (hint + i) % this.size;
      if (taken.has(String(index))) continue;
      if (await this.tryCreate(index, owner)) {
        this.nextHint = (index + 1) % this.size;
        return index;
      }
    }
    throw new ClaimsExhaustedError(this.kind, this.size);
  }

  /** Claim a specific index (re-adopting a running sprite); false if someone else holds it. */
  async claim(index: number, owner: string): Promise<boolean> {
    if (await this.tryCreate(index, owner)) return true;
    const holder = await this.ownerOf(index);
    return holder?.instanceId === this.instanceId && holder.owner === owner;
  }

  private async tryCreate(index: number, owner: string): Promise<boolean> {
    await mkdir(this.dir(), { recursive: true, mode: 0o700 });
    const pending = join(this.dir(), `.pending-${process.pid}-${randomBytes(4).toString('hex')}`);
    await mkdir(pending);
    try {
      await writeFile(join(pending, 'owner'), `${this.instanceId} ${owner}\n`);
      await rename(pending, join(this.dir(), String(index)));
      return true;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EEXIST' || code === 'ENOTEMPTY') return false;
      throw e;
    } finally {
      await rm(pending, { recursive: true, force: true });
    }
  }

  /** Hands a claim this instance holds to a new owner (a spare becoming a sprite's). */
  async setOwner(index: number, owner: string): Promise<void> {
    // Written aside and renamed over: a daemon killed mid-write leaves the old owner, never
    // an empty file that no instance would recognise (and so nobody would ever release).
    const path = join(this.dir(), String(index), 'owner');
    const next = `${path}.${process.pid}.next`;
    await writeFile(next, `${this.instanceId} ${owner}\n`);
    await rename(next, path);
  }

  /**
   * Gives a claim of this instance back; false (and nothing removed) when another instance
   * holds that index. Claims are host-wide: a stale index in our hands (a slot we released
   * and another daemon took since) must never free someone else's resource. No other process
   * can make a claim under an index while its directory exists, so the owner read here is
   * still the owner when the directory is removed.
   */
  async release(index: number): Promise<boolean> {
    const holder = await this.ownerOf(index);
    if (holder && holder.instanceId !== this.instanceId) return false;
    await rm(join(this.dir(), String(index)), { recursive: true, force: true });
    return true;
  }

  async ownerOf(index: number): Promise<{ instanceId: string; owner: string } | null> {
    try {
      const text = (await readFile(join(this.dir(), String(index), 'owner'), 'utf8')).trim();
      const [instanceId = '', owner = ''] = text.split(' ');
      return { instanceId, owner };
    } catch {
      return null;
    }
  }

  /** Removes half-made claims of processes that died between mkdir and rename (kill -9). */
  async removeStalePending(): Promise<number> {
    let removed = 0;
    for (const name of await readdir(this.dir()).catch(() => [] as string[])) {
      const pid = Number(/^\.pending-(\d+)-/.exec(name)?.[1]);
      if (!pid || pidAlive(pid)) continue;
      await rm(join(this.dir(), name), { recursive: true, force: true });
      removed++;
    }
    return removed;
  }

  /** Every claim this instance holds, for startup reclaim. */
  async mine(): Promise<{ index: number; owner: string }[]> {
    let names: string[];
    try {
      names = await readdir(this.dir());
    } catch {
      return [];
    }
    const result: { index: number; owner: string }[] = [];
    for (const name of names) {
      const index = Number(name);
      if (!Number.isInteger(index)) continue;
      const holder = await this.ownerOf(index);
      if (holder?.instanceId === this.instanceId) result.push({ index, owner: holder.owner });
    }
    return result;
  }
}
