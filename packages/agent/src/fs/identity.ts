import { agentNative } from '../native.js';
import { FsError } from './errors.js';

/** Whose permissions a filesystem call runs with. */
export interface FsIdentity {
  uid: number;
  gid: number;
  groups: number[];
}

export const SPRITE_IDENTITY: FsIdentity = { uid: 1000, gid: 1000, groups: [1000] };
export const ROOT_IDENTITY: FsIdentity = { uid: 0, gid: 0, groups: process.getgroups?.() ?? [0] };

/**
 * Runs `fn` synchronously with the filesystem credentials of `who`: the kernel checks every
 * path step, symlink and permission as that user, and what it creates belongs to that user.
 * Only the main thread switches (setfsuid is per thread), and back before anything else runs.
 */
export function asIdentity<T>(who: FsIdentity, fn: () => T): T {
  if (who.uid === 0) return fn();
  const native = agentNative();
  if (!native)
    throw new FsError(500, 'EIO', 'the agent cannot act as user sprite (native addon missing); use asRoot=true');
  if (!native.setFsIdentity(who.uid, who.gid, who.groups)) {
    native.setFsIdentity(ROOT_IDENTITY.uid, ROOT_IDENTITY.gid, ROOT_IDENTITY.groups);
    throw new FsError(500, 'EIO', `the agent could not take the identity of uid ${who.uid}`);
  }
  try {
    return fn();
  } finally {
    native.setFsIdentity(ROOT_IDENTITY.uid, ROOT_IDENTITY.gid, ROOT_IDENTITY.groups);
  }
}

export function identityFor(asRoot: boolean): FsIdentity {
  return asRoot ? ROOT_IDENTITY : SPRITE_IDENTITY;
}
