export type { RuntimeDriver, RuntimeInfo, ContainerState, ContainerStatus, StartOptions } from './driver.js';
export { UnknownDriverError } from './driver.js';
export { loadRuntime, runtimeDrivers, isHybridCgroupHost } from './drivers.js';
export { buildOciConfig, DEFAULT_PATH, SPRITE_CAPABILITIES, type SpriteBundleSpec, type OciConfig, type AgentMounts } from './bundle.js';
export { removeCgroupTree, listChildCgroups, memoryUsage } from './cgroups.js';
