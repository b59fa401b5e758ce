import { statfsSync } from 'node:fs';
import { constants as osConstants } from 'node:os';
import { posix } from 'node:path';

/** An error of a filesystem call, as the client sees it: `{error, code, path}` (PROTOCOL.md §8.9). */
export class FsError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly path?: string,
  ) {
    super(message);
  }

  toBody(): { error: string; code: string; path?: string } {
    return { error: this.message, code: this.code, ...(this.path !== undefined ? { path: this.path } : {}) };
  }
}

/** errno → HTTP status. 404 only for ENOENT (the SDKs turn it into "not exist"). */
const STATUS_BY_ERRNO: Record<string, number> = {
  ENOENT: 404,
  EACCES: 403,
  EPERM: 403,
  EROFS: 403,
  EEXIST: 409,
  ENOTEMPTY: 409,
  EBUSY: 409,
  ENOTDIR: 400,
  EISDIR: 400,
  EINVAL: 400,
  ELOOP: 400,
  ENAMETOOLONG: 400,
  EXDEV: 400,
  EMLINK: 400,
  ENOSPC: 507,
  EDQUOT: 507,
};

const HINTS: Record<string, string> = {
  EDQUOT: "the sprite's disk quota is used up: delete files or create the sprite with a larger storage_gb",
  // The sprite's own limit is EDQUOT; ENOSPC on its disk means the host's pool is full.
  ENOSPC:
    "the host's storage pool is full, not this sprite's quota: the operator must free space or grow the pool; deleting this sprite's files or checkpoints may help",
  EACCES: 'permission denied for user sprite; pass asRoot=true to act as root',
  EPERM: 'operation not permitted for user sprite; pass asRoot=true to act as root',
};

/** errno number → name, for the codes libuv has no name for (EDQUOT is "Unknown system error -122"). */
const NAME_BY_ERRNO = new Map(Object.entries(osConstants.errno).map(([name, n]) => [n, name]));

function errnoName(err: NodeJS.ErrnoException | undefined): string {
  if (typeof err?.code === 'string' && /^E[A-Z0-9]+$/.test(err.code)) return err.code;
  if (typeof err?.errno === 'number') return NAME_BY_ERRNO.get(Math.abs(err.errno)) ?? 'EIO';
  return 'EIO';
}

const DESCRIPTIONS: Record<string, string> = { EDQUOT: 'disk quota exceeded', ENOSPC: 'no space left on device' };

/** Turns a thrown Node fs error into an FsError about `path`. */
export function fsErrorFrom(e: unknown, path: string): FsError {
  if (e instanceof FsError) return e;
  const err = e as NodeJS.ErrnoException;
  const code = errnoName(err);
  const status = STATUS_BY_ERRNO[code] ?? 500;
  const base = `${code}: ${DESCRIPTIONS[code] ?? describe(err)}${err?.syscall ? `, ${err.syscall}` : ''} '${path}'`;
  const hint = code === 'ENOSPC' && inMemoryFs(path) ? TMPFS_FULL : HINTS[code];
  return new FsError(status, code, hint ? `${base} (${hint})` : base, path);
}

const TMPFS_MAGIC = 0x01021994;
const TMPFS_FULL =
  "this directory is memory-backed (/tmp holds at most half the sprite's RAM) and full: delete files there or write to the disk";

/** Whether `path` (or the nearest directory above it that exists) is on a tmpfs. */
function inMemoryFs(path: string): boolean {
  for (let dir = posix.dirname(path); ; dir = posix.dirname(dir)) {
    try {
      return statfsSync(dir).type === TMPFS_MAGIC;
    } catch {
      if (dir === '/' || dir === '.') return false;
    }
  }
}

function describe(err: NodeJS.ErrnoException | undefined): string {
  // Node's message is "CODE: text, syscall 'path'": keep only the text.
  const m = /^[A-Z]+: ([^,]+)/.exec(err?.message ?? '');
  return m?.[1] ?? 'input/output error';
}

export function badRequest(message: string, path?: string): FsError {
  return new FsError(400, 'EINVAL', message, path);
}
