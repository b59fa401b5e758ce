export { PortWatcher, type PortEvent } from './watcher.js';
export { parseProcNetTcp, listeningPorts, type ListeningPort } from './proc-net.js';
