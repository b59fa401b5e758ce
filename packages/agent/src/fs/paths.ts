import { posix } from 'node:path';
import { badRequest } from './errors.js';

/** Where relative paths resolve when the request names no workingDir (the sprite user's home). */
export const DEFAULT_WORKING_DIR = '/home/sprite';

/**
 * An absolute, normalized path inside the sprite. The agent's root is the sprite's root, so
 * `..` and absolute paths cannot leave it; the kernel resolves symlinks as the caller.
 */
export function resolvePath(path: unknown, workingDir: unknown, field = 'path'): string {
  if (typeof path !== 'string' || path === '') throw badRequest(`${field} is required`);
  if (path.includes('\0')) throw badRequest(`${field} contains a NUL byte`, path);
  let base = DEFAULT_WORKING_DIR;
  if (workingDir !== undefined && workingDir !== null && workingDir !== '') {
    if (typeof workingDir !== 'string' || !workingDir.startsWith('/') || workingDir.includes('\0')) {
      throw badRequest('workingDir must be an absolute path');
    }
    base = workingDir;
  }
  const resolved = posix.resolve(base, path);
  // A trailing slash asks for the directory itself (and follows a symlink to it).
  return path.endsWith('/') && resolved !== '/' ? `${resolved}/` : resolved;
}

/** `0644`, `755`, `4755`: octal permission digits; anything else is a 400. */
export function parseMode(mode: unknown, field = 'mode'): number | undefined {
  if (mode === undefined || mode === null || mode === '') return undefined;
  if (typeof mode === 'number' && Number.isInteger(mode) && mode >= 0 && mode <= 0o7777) return mode;
  if (typeof mode !== 'string' || !/^0?[0-7]{1,4}$/.test(mode))
    throw badRequest(`${field} must be octal digits such as 0644, got ${JSON.stringify(mode)}`);
  const value = parseInt(mode, 8);
  if (value > 0o7777) throw badRequest(`${field} ${mode} is out of range`);
  return value;
}

export function formatMode(mode: number): string {
  return (mode & 0o7777).toString(8).padStart(4, '0');
}

/** true/"true"/"1" → true; absent → the default; anything else → false. */
export function flag(value: unknown, fallback = false): boolean {
  if (value === undefined || value === null || value === '') return fallback;
  return value === true || value === 'true' || value === '1';
}
