export * from './errors.js';
export * from './sprites.js';
export * from './names.js';
export * from './version.js';
export * from './exec.js';
export * from './paths.js';
export * from './duration.js';
export * from './websocket.js';
