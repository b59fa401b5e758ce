export { startDaemon, type RunningDaemon } from './daemon/index.js';
export { loadConfig, type DaemonConfig } from './config.js';
