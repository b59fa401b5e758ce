import type { DaemonConfig } from '../config.js';
import type { HostClaims } from '../host/index.js';
import { KeyedMutex } from '../host/index.js';
import type { Logger } from '../log.js';
import type { SlotFactory } from '../network/index.js';
import type { Registry } from '../registry/index.js';
import type { AgentMounts, RuntimeDriver } from '../runtime/index.js';
import type { StorageDriver } from '../storage/index.js';
import type { SpritePaths } from './paths.js';

/** Everything the lifecycle operations use; built once by the composition root. */
export interface LifecycleContext {
  config: DaemonConfig;
  registry: Registry;
  storage: StorageDriver;
  runtime: RuntimeDriver;
  slots: SlotFactory;
  netClaims: HostClaims;
  idClaims: HostClaims;
  agent: AgentMounts;
  resolvConf: string;
  nofile: number;
  paths: SpritePaths;
  log: Logger;
  /** Per-sprite serialization of start/stop/delete. */
  locks: KeyedMutex;
  /** Key of the base image new sprites are cloned from. */
  imageKey: string;
}

export { KeyedMutex };
