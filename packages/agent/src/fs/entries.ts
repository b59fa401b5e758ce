import { lstatSync, readdirSync, statSync, type Stats } from 'node:fs';
import { posix } from 'node:path';
import { formatMode } from './paths.js';

/** One element of a listing (PROTOCOL.md §8.1). */
export interface FsEntry {
  name: string;
  path: string;
  type: 'file' | 'directory' | 'symlink';
  size: number;
  mode: string;
  modTime: string;
  isDir: boolean;
}

export function entryOf(path: string, st: Stats): FsEntry {
  const type = st.isSymbolicLink() ? 'symlink' : st.isDirectory() ? 'directory' : 'file';
  const clean = path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path;
  return {
    name: posix.basename(clean) || '/',
    path: clean,
    type,
    size: st.size,
    mode: formatMode(st.mode),
    modTime: st.mtime.toISOString(),
    isDir: type === 'directory',
  };
}

/** A shell-style pattern (`*`, `?`, `[abc]`) matched against base names. */
export function globMatcher(pattern: string): (name: string) => boolean {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '*') re += '.*';
    else if (c === '?') re += '.';
    else if (c === '[') {
      const close = pattern.indexOf(']', i + 2);
      if (close < 0) re += '\\[';
      else {
        const body = pattern.slice(i + 1, close).replace(/\\/g, '\\\\');
        re += `[${body.startsWith('!') ? `^${body.slice(1)}` : body}]`;
        i = close;
      }
    } else re += c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  }
  const compiled = new RegExp(`^${re}$`, 's');
  return (name) => compiled.test(name);
}

export interface ListOptions {
  recursive: boolean;
  pattern?: string;
}

/**
 * A file (or symlink) lists as itself; a directory lists its children, or with `recursive`
 * everything below it (symlinks are entries, never followed). Sorted by path.
 */
export function listPath(path: string, opts: ListOptions): { path: string; entries: FsEntry[]; count: number } {
  const followed = path.endsWith('/');
  const st = followed ? statSync(path) : lstatSync(path);
  const root = followed && path.length > 1 ? path.slice(0, -1) : path;
  const matches = opts.pattern ? globMatcher(opts.pattern) : () => true;
  if (!st.isDirectory()) {
    const self = entryOf(root, st);
    return { path: root, entries: [self], count: 1 };
  }
  const entries: FsEntry[] = [];
  const walk = (dir: string) => {
    const names = readdirSync(dir).sort();
    for (const name of names) {
      const child = dir === '/' ? `/${name}` : `${dir}/${name}`;
      let cst: Stats;
      try {
        cst = lstatSync(child);
      } catch {
        continue; // removed meanwhile
      }
      if (matches(name)) entries.push(entryOf(child, cst));
      if (opts.recursive && cst.isDirectory()) {
        try {
          walk(child);
        } catch {
          // unreadable subdirectory: listed, not descended
        }
      }
    }
  };
  walk(root);
  return { path: root, entries, count: entries.length };
}
