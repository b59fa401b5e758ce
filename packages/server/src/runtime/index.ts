export type { RuntimeDriver, RuntimeInfo, ContainerState, ContainerStatus, StartOptions } from './driver.js';
export { UnknownDriverError } from './driver.js';
export { loadRuntime, runtimeDrivers, isHybridCgroupHost } from './drivers.js';
export {
  buildOciConfig,
  spriteSeccomp,
  BTRFS_SUBVOLUME_IOCTLS,
  AGENT_OOM_SCORE_ADJ,
  USER_OOM_SCORE_ADJ,
  CPU_PERIOD_US,
  DEFAULT_PATH,
  SPRITE_CAPABILITIES,
  type SpriteBundleSpec,
  type OciConfig,
  type AgentMounts,
} from './bundle.js';
export {
  removeCgroupTree,
  listChildCgroups,
  memoryUsage,
  writeCgroupLimits,
  setFrozen,
  freezerFile,
  type CgroupLimits,
} from './cgroups.js';
