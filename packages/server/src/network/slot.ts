import { readdir, rm } from 'node:fs/promises';
import { run } from '../host/index.js';
import type { Pool } from './ipam.js';
import { slotAddresses, type SlotAddresses } from './ipam.js';
import { netnsName, netnsPrefix, vethName, vethPrefix } from './names.js';

export interface NetworkSlot extends SlotAddresses {
  netns: string;
  netnsPath: string;
  hostVeth: string;
}

/**
 * Told when a slot's gateway address appears and goes (the DNS proxy listens on each
 * gateway). `up` failing fails the slot's creation.
 */
export interface SlotObserver {
  up(slot: NetworkSlot): Promise<void>;
  down(slot: NetworkSlot): void;
}

/**
 * One sprite's network: a named netns with `eth0` (the sprite end of a veth pair), `lo` up
 * and a default route via the host end. Created in one `ip -batch` call.
 */
export class SlotFactory {
  constructor(
    private readonly instanceId: string,
    private readonly pool: Pool,
    private readonly observer: SlotObserver | null = null,
  ) {}

  describe(index: number): NetworkSlot {
    const addresses = slotAddresses(this.pool, index);
    const netns = netnsName(this.instanceId, index);
    return { ...addresses, netns, netnsPath: `/run/netns/${netns}`, hostVeth: vethName(this.instanceId, index) };
  }

  async create(index: number): Promise<NetworkSlot> {
    const slot = this.describe(index);
    // Anchor first: the netns is what reclaim finds, so it exists before anything else.
    await run('ip', ['netns', 'add', slot.netns]);
    try {
      const host = [
        `link add ${slot.hostVeth} type veth peer name eth0 netns ${slot.netns}`,
        `addr add ${slot.hostIp}/${slot.prefixLength} dev ${slot.hostVeth}`,
        `link set ${slot.hostVeth} up`,
      ];
      const inside = [
        'link set lo up',
        `addr add ${slot.spriteIp}/${slot.prefixLength} dev eth0`,
        'link set eth0 up',
        `route add default via ${slot.hostIp}`,
      ];
      await run('ip', ['-batch', '-'], { input: host.join('\n') + '\n' });
      await run('ip', ['-n', slot.netns, '-batch', '-'], { input: inside.join('\n') + '\n' });
      await this.observer?.up(slot);
    } catch (e) {
      await this.destroy(index).catch(() => undefined);
      throw new Error(`create network namespace ${slot.netns}`, { cause: e });
    }
    return slot;
  }

  /** A slot that outlived a daemon restart (its sprite was re-adopted): tell the observer. */
  async adopt(index: number): Promise<void> {
    await this.observer?.up(this.describe(index));
  }

  async exists(index: number): Promise<boolean> {
    const names = await readdir('/run/netns').catch(() => [] as string[]);
    return names.includes(netnsName(this.instanceId, index));
  }

  /** Removes the veth pair and then the netns (the anchor goes last). Idempotent. */
  async destroy(index: number): Promise<void> {
    const slot = this.describe(index);
    this.observer?.down(slot);
    await run('ip', ['link', 'del', slot.hostVeth], { okCodes: [1] });
    await run('ip', ['netns', 'del', slot.netns], { okCodes: [1] });
    await rm(slot.netnsPath, { force: true });
  }

  /** Indexes of every netns this instance has on the host (for reclaim). */
  async listIndexes(): Promise<number[]> {
    const prefix = netnsPrefix(this.instanceId);
    const names = await readdir('/run/netns').catch(() => [] as string[]);
    return names
      .filter((n) => n.startsWith(prefix))
      .map((n) => Number(n.slice(prefix.length)))
      .filter(Number.isInteger);
  }

  /** Host veths of this instance whose netns is gone (left by a crash). */
  async strayVeths(): Promise<string[]> {
    const { stdout } = await run('ip', ['-o', 'link', 'show', 'type', 'veth']);
    const prefix = vethPrefix(this.instanceId);
    return stdout
      .split('\n')
      .map((line) => /^\d+:\s+([^@:]+)/.exec(line)?.[1] ?? '')
      .filter((name) => name.startsWith(prefix));
  }

  async deleteLink(name: string): Promise<void> {
    await run('ip', ['link', 'del', name], { okCodes: [1] });
  }
}
