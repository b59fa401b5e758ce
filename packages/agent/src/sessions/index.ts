export { Session, type SessionSpec, type SessionSummary } from './session.js';
export { SessionRegistry } from './registry.js';
export { spawnPipes, spawnPty, signalNumber, type ProcessHandle, type SpawnSpec } from './process.js';
export { RingBuffer } from './ring-buffer.js';
export { killSession } from './kill.js';
