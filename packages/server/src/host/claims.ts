import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Host-wide numbered claims shared by every daemon on the machine: network slots and uid
 * ranges must not collide even between daemons with different data dirs. A claim is a
 * directory created with mkdir (atomic), holding the owner's instance id.
 */
export class HostClaims {
  constructor(
    private readonly root: string,
    private readonly kind: string,
    private readonly instanceId: string,
    private readonly size: number,
  ) {}

  private dir(): string {
    return join(this.root, this.kind);
  }

  /** Claim the lowest free index at or after `hint`, wrapping around; throws when all are taken. */
  async acquire(owner: string, hint = 0): Promise<number> {
    await mkdir(this.dir(), { recursive: true, mode: 0o700 });
    for (let i = 0; i < this.size; i++) {
      const index = (hint + i) % this.size;
      try {
        await mkdir(join(this.dir(), String(index)));
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'EEXIST') continue;
        throw e;
      }
      await writeFile(join(this.dir(), String(index), 'owner'), `${this.instanceId} ${owner}\n`);
      return index;
    }
    throw new Error(`no free ${this.kind} claim left (all ${this.size} are in use on this host)`);
  }

  /** Claim a specific index (re-adopting a running sprite); false if someone else holds it. */
  async claim(index: number, owner: string): Promise<boolean> {
    await mkdir(this.dir(), { recursive: true, mode: 0o700 });
    try {
      await mkdir(join(this.dir(), String(index)));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const holder = await this.ownerOf(index);
      return holder?.instanceId === this.instanceId && holder.owner === owner;
    }
    await writeFile(join(this.dir(), String(index), 'owner'), `${this.instanceId} ${owner}\n`);
    return true;
  }

  /** Hands a claim this instance holds to a new owner (a spare becoming a sprite's). */
  async setOwner(index: number, owner: string): Promise<void> {
    await writeFile(join(this.dir(), String(index), 'owner'), `${this.instanceId} ${owner}\n`);
  }

  async release(index: number): Promise<void> {
    await rm(join(this.dir(), String(index)), { recursive: true, force: true });
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
