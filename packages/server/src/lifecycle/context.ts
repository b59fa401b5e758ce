import type { DaemonConfig } from '../config.js';
import type { BackgroundTasks, QuietGate, SparePool } from '../host/index.js';
import { KeyedMutex } from '../host/index.js';
import type { Logger } from '../log.js';
import type { NetworkSlot, SlotFactory } from '../network/index.js';
import type { Registry } from '../registry/index.js';
import type { AgentMounts, RuntimeDriver } from '../runtime/index.js';
import type { StorageDriver } from '../storage/index.js';
import type { RunAllocator } from './allocator.js';
import type { ActivityTracker, IdleSettings } from './activity.js';
import type { SpritePaths } from './paths.js';
import type { ContainerWatch } from './watch.js';

/** Everything the lifecycle operations use; built once by the composition root. */
export interface LifecycleContext {
  config: DaemonConfig;
  registry: Registry;
  storage: StorageDriver;
  runtime: RuntimeDriver;
  slots: SlotFactory;
  /** Network slots and id ranges: reserved host-wide, given back only once really gone. */
  allocator: RunAllocator;
  agent: AgentMounts;
  resolvConf: string;
  nofile: number;
  paths: SpritePaths;
  log: Logger;
  /** Per-sprite serialization of start/stop/delete. */
  locks: KeyedMutex;
  /** Key of the base image new sprites are cloned from. */
  imageKey: string;
  /** Ready clones of the base image (volume names), taken by create. */
  spareVolumes: SparePool<string>;
  /** Ready network namespaces (claimed, owner "spare"), taken by start. */
  spareSlots: SparePool<NetworkSlot>;
  /** Marks creates and starts in flight, so background refills keep out of their way. */
  quiet: QuietGate;
  /** When each sprite was last used, and its open connections. */
  activity: ActivityTracker;
  idle: IdleSettings;
  /** Which running sprites' containers have died (agent gone), so they are booted again. */
  watch: ContainerWatch;
  /** Disk deletions that finish after the API answered. */
  background: BackgroundTasks;
  /** Network policies: put on a run as it boots, lifted as it stops. */
  policy: {
    attach(spriteId: string, slot: { index: number; hostVeth: string; spriteIp: string }): Promise<void>;
    detach(spriteId: string): Promise<void>;
  } | null;
}

export { KeyedMutex };
