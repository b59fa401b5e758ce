export { run, CommandError, type RunOptions, type RunResult } from './run.js';
export { UndoStack, runAll, errorText } from './undo.js';
export { hostFault, inContext, poolFull } from './faults.js';
export { helperPath } from './helper.js';
export { HostClaims, ClaimsExhaustedError } from './claims.js';
export { KeyedMutex } from './mutex.js';
export { mountsUnder, isMountPoint, unmount, unmountAll } from './mounts.js';

export { ownHardNofile } from './limits.js';
export { SparePool } from './spare-pool.js';
export { BackgroundTasks } from './background.js';
export { QuietGate } from './quiet.js';
export { pidAlive } from './pid.js';
export { crashPoint } from './crash.js';
export { holdInstanceLock } from './instance-lock.js';
export { FairGate } from './fair-gate.js';
export { raiseSysctls, SCALE_SYSCTLS } from './sysctl.js';
export { forEachLimited } from './limited.js';
