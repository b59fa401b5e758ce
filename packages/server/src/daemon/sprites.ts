import { randomUUID } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import type { DaemonConfig } from '../config.js';
import { BackgroundTasks, HostClaims, KeyedMutex, ownHardNofile, QuietGate, SparePool } from '../host/index.js';
import {
  ActivityTracker,
  ContainerWatch,
  ID_RANGE_BASE,
  ID_RANGE_SIZE,
  prepareAgentRuntime,
  RunAllocator,
  SpriteLifecycle,
  type SpritePaths,
} from '../lifecycle/index.js';
import type { Logger } from '../log.js';
import { SlotFactory, slotCount, spriteResolvConf, type NetworkSlot, type Pool } from '../network/index.js';
import type { Registry } from '../registry/index.js';
import type { RuntimeDriver } from '../runtime/index.js';
import type { BtrfsDriver } from '../storage/index.js';
import type { SpriteNetwork } from './network.js';

export interface SpritesInput {
  config: DaemonConfig;
  pool: Pool;
  registry: Registry;
  storage: BtrfsDriver;
  imageKey: string;
  runtime: RuntimeDriver;
  paths: SpritePaths;
  network: SpriteNetwork;
}

/** The lifecycle and what it owns besides: network slots, spare disks and networks, background deletions. */
export interface Sprites {
  lifecycle: SpriteLifecycle;
  slots: SlotFactory;
  spareVolumes: SparePool<string>;
  spareSlots: SparePool<NetworkSlot>;
  background: BackgroundTasks;
}

/**
 * Builds the lifecycle: the only room that combines runtime, storage and network for a sprite.
 * Host-wide claims (network slots, id ranges) are shared with other daemons on this host.
 */
export async function buildSprites(input: SpritesInput, log: Logger): Promise<Sprites> {
  const { config, pool, storage, imageKey, runtime, paths, network } = input;
  await mkdir(paths.runRoot, { recursive: true, mode: 0o711 });
  const lifecycleLog = log.child({ room: 'lifecycle' });
  const slots = new SlotFactory(config.instanceId, pool, {
    up: (slot) => network.dnsProxy.addGateway(slot.hostIp, slot.spriteIp),
    down: (slot) => network.dnsProxy.removeGateway(slot.hostIp),
  });
  const netClaims = new HostClaims(
    config.claimsDir,
    `net-${pool.cidr.replace(/[./]/g, '_')}`,
    config.instanceId,
    slotCount(pool),
  );
  const quiet = new QuietGate();
  const whenQuiet = () => quiet.whenQuiet();
  const spareError = (err: unknown) =>
    lifecycleLog.warn({ err }, 'could not prepare a spare resource; creates make their own');
  const spareVolumes = new SparePool<string>(
    config.spares,
    async () => {
      const name = `spare-${randomUUID()}`;
      await storage.createVolume(name, { fromImage: imageKey });
      return name;
    },
    (name) => storage.deleteVolume(name),
    spareError,
    whenQuiet,
  );
  const idClaims = new HostClaims(
    config.claimsDir,
    `ids-${ID_RANGE_BASE}-${ID_RANGE_SIZE}`,
    config.instanceId,
    config.limits.maxSprites,
  );
  const allocator = new RunAllocator(netClaims, idClaims, slots, runtime, paths, lifecycleLog);
  const spareSlots = new SparePool(
    config.spares,
    () => allocator.makeNetwork('spare'),
    (slot) => allocator.retireNetwork(slot.index),
    spareError,
    whenQuiet,
  );
  const background = new BackgroundTasks((what, err) =>
    lifecycleLog.error({ err }, `${what} failed; startup reclaim will retry`),
  );
  const lifecycle = new SpriteLifecycle({
    config,
    registry: input.registry,
    storage,
    runtime,
    slots,
    allocator,
    spareVolumes,
    spareSlots,
    background,
    quiet,
    activity: new ActivityTracker(),
    idle: { warmAfterMs: config.idleWarmSeconds * 1000, coldAfterMs: config.idleColdSeconds * 1000 },
    watch: new ContainerWatch(),
    agent: await prepareAgentRuntime(config.dataDir),
    resolvConf: await spriteResolvConf(),
    nofile: await ownHardNofile(),
    paths,
    log: lifecycleLog,
    locks: new KeyedMutex(),
    imageKey,
    policy: network.policy,
  });
  return { lifecycle, slots, spareVolumes, spareSlots, background };
}

/**
 * Startup reclaim: re-adopts the sprites that kept running (their DNS and policies come back
 * in the fresh table), removes what earlier runs left behind, and only then fills the spare
 * pools, since spares made earlier would look like leftovers to reclaim.
 */
export async function adoptAndReclaim(sprites: Sprites, network: SpriteNetwork, log: Logger): Promise<void> {
  const { lifecycle, slots } = sprites;
  const summary = await lifecycle.adoptAndReclaim();
  for (const { spriteId, slot } of await lifecycle.runningSlots()) {
    await slots
      .adopt(slot.index)
      .catch((err: unknown) =>
        log.error({ err, spriteId }, "the DNS proxy could not listen on a re-adopted sprite's gateway"),
      );
    await network.policy
      .attach(spriteId, slot)
      .catch((err: unknown) => log.error({ err, spriteId }, 'could not re-apply a network policy'));
  }
  log.info(
    { event: 'startup.reclaim', ...summary },
    `startup: re-adopted ${summary.adopted} running sprite(s), reclaimed ${JSON.stringify(summary.reclaimed)}`,
  );
  if (summary.errors.length > 0) log.warn({ errors: summary.errors }, 'some leftovers could not be reclaimed');
  sprites.spareVolumes.refill();
  sprites.spareSlots.refill();
  lifecycle.startPools();
}

/** The idle policy: a sweep every quarter of the warm delay (between 0.25 s and 5 s), never two at once. Returns its stop. */
export function startIdleSweeps(lifecycle: SpriteLifecycle, config: DaemonConfig): () => void {
  const sweepEveryMs = Math.min(5000, Math.max(250, (config.idleWarmSeconds * 1000) / 4));
  let sweeping = false;
  const timer = setInterval(() => {
    if (sweeping) return;
    sweeping = true;
    void lifecycle.sweepIdle().finally(() => (sweeping = false));
  }, sweepEveryMs);
  return () => clearInterval(timer);
}

/** Releases the spare pools: pre-booted sprites first, since booting one takes spares. */
export async function releaseSpares(sprites: Sprites): Promise<void> {
  await sprites.lifecycle.closePools();
  await sprites.spareVolumes.close();
  await sprites.spareSlots.close();
}
