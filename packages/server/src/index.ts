export { startDaemon, type RunningDaemon } from './daemon.js';
export { loadConfig, type DaemonConfig } from './config.js';
