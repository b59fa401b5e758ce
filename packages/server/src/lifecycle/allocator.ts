import { existsSync } from 'node:fs';
import { ErrorCode, SpriteError } from '@sprites/protocol';
import { ClaimsExhaustedError, errorText, mountsUnder, type HostClaims } from '../host/index.js';
import type { Logger } from '../log.js';
import type { NetworkSlot, SlotFactory } from '../network/index.js';
import type { RuntimeDriver } from '../runtime/index.js';
import type { SpritePaths } from './paths.js';

/**
 * The one owner of a run's host-wide numbered resources: its network slot (a /30, a netns, a
 * veth pair) and its id range (65,536 host uids and gids). Both are reserved through claims
 * every daemon on the host honours (HostClaims), and a claim is given back only after the
 * resource behind it has been seen gone: the netns and the host veth no longer exist, no
 * container of the owner runs and its root filesystem is unmounted. A teardown that fails
 * keeps the claim, so the index is never handed out while something still uses it (the
 * `File exists` of a later `ip netns add`, or two sprites sharing a uid range); the claim is
 * retried by `retryKept()` and, across restarts, by startup reclaim.
 */
export class RunAllocator {
  /** Indexes whose teardown did not finish: still claimed, retried later. */
  private readonly keptNetworks = new Set<number>();
  private readonly keptIdRanges = new Map<number, string>();

  constructor(
    private readonly netClaims: HostClaims,
    private readonly idClaims: HostClaims,
    private readonly slots: SlotFactory,
    private readonly runtime: RuntimeDriver,
    private readonly paths: SpritePaths,
    private readonly log: Logger,
  ) {}

  /**
   * Reserves a free network slot for `owner` and builds it. Anything of ours still under that
   * index (left by a crash or a teardown that failed before the claim was ours again) is torn
   * down first: holding the claim proves nobody else uses it.
   */
  async makeNetwork(owner: string): Promise<NetworkSlot> {
    const index = await this.netClaims.acquire(owner).catch(capacity('network addresses', 'a larger --network-pool'));
    try {
      if (this.networkLeft(index)) {
        this.log.warn(
          { index },
          'a network slot we just claimed still had a netns or veth of ours: tearing it down first',
        );
        await this.slots.destroy(index);
      }
      return await this.slots.create(index);
    } catch (e) {
      await this.retireNetwork(index).catch(() => undefined);
      throw e;
    }
  }

  /** Hands a network slot this instance holds to a new owner (a spare becoming a sprite's). */
  async assignNetwork(index: number, owner: string): Promise<void> {
    await this.netClaims.setOwner(index, owner);
  }

  /**
   * Tears a network slot down and gives its claim back once the netns and host veth are
   * gone. When they are not, the claim stays (and is retried) and this throws.
   */
  async retireNetwork(index: number): Promise<void> {
    let failure: unknown = null;
    try {
      await this.slots.destroy(index);
    } catch (e) {
      failure = e;
    }
    if (!failure && !this.networkLeft(index)) {
      this.keptNetworks.delete(index);
      await this.netClaims.release(index);
      return;
    }
    this.keptNetworks.add(index);
    throw new Error(
      `network slot ${index} is not gone (${failure ? errorText(failure) : 'its netns or veth is still there'}); its claim is kept until it is`,
      { cause: failure },
    );
  }

  /** Reserves a free id range for `owner`. */
  acquireIds(owner: string): Promise<number> {
    return this.idClaims.acquire(owner).catch(capacity('uid ranges', 'a larger SPRITES_MAX_SPRITES'));
  }

  /**
   * Gives an id range back once nothing uses it: no container of `owner` runs and its root
   * filesystem (mapped onto that range) is unmounted. Otherwise the claim stays and this throws.
   */
  async retireIds(index: number, owner: string): Promise<void> {
    const state = await this.runtime.state(this.paths.containerId(owner)).catch(() => ({ status: 'unknown' }));
    const mounted = (await mountsUnder(this.paths.rootfs(owner)).catch(() => ['?'])).length > 0;
    if (state === null && !mounted) {
      this.keptIdRanges.delete(index);
      await this.idClaims.release(index);
      return;
    }
    this.keptIdRanges.set(index, owner);
    throw new Error(
      `id range ${index} of ${owner} is still in use (${state ? `container ${state.status}` : 'root filesystem mounted'}); its claim is kept until it is not`,
    );
  }

  /** Re-claims the slots of a run that outlived a daemon restart; false if another holds one. */
  async adopt(netSlot: number, idSlot: number, owner: string): Promise<boolean> {
    return (await this.netClaims.claim(netSlot, owner)) && (await this.idClaims.claim(idSlot, owner));
  }

  /** Claims this instance holds: for startup reclaim. */
  heldNetworks(): Promise<{ index: number; owner: string }[]> {
    return this.netClaims.mine();
  }

  heldIdRanges(): Promise<{ index: number; owner: string }[]> {
    return this.idClaims.mine();
  }

  async removeStalePending(): Promise<number> {
    return (await this.netClaims.removeStalePending()) + (await this.idClaims.removeStalePending());
  }

  /** Tries again to give back what an earlier teardown kept; returns how many are still kept. */
  async retryKept(): Promise<number> {
    for (const index of [...this.keptNetworks]) await this.retireNetwork(index).catch(() => undefined);
    for (const [index, owner] of [...this.keptIdRanges]) await this.retireIds(index, owner).catch(() => undefined);
    return this.keptNetworks.size + this.keptIdRanges.size;
  }

  /** Whether a netns or host veth of ours exists under `index`. */
  private networkLeft(index: number): boolean {
    const slot = this.slots.describe(index);
    return existsSync(slot.netnsPath) || existsSync(`/sys/class/net/${slot.hostVeth}`);
  }
}

/** All claims of a kind held: the host is full, which the caller hears as 503 capacity_exhausted. */
function capacity(what: string, remedy: string): (e: unknown) => never {
  return (e) => {
    if (e instanceof ClaimsExhaustedError) {
      throw new SpriteError(
        ErrorCode.CapacityExhausted,
        `this host has no ${what} left (${e.size} in use): delete sprites, or restart the daemon with ${remedy}`,
        { details: { retry_after_seconds: 30 } },
      );
    }
    throw e;
  };
}
