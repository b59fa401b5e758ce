import {
  chmodSync,
  copyFileSync,
  constants,
  lchownSync,
  lstatSync,
  lutimesSync,
  mkdirSync,
  readdirSync,
  readlinkSync,
  renameSync,
  rmdirSync,
  statSync,
  symlinkSync,
  unlinkSync,
  chownSync,
  utimesSync,
  type Stats,
} from 'node:fs';
import { posix } from 'node:path';
import { badRequest, FsError, fsErrorFrom } from './errors.js';
import { formatMode } from './paths.js';

/** Calls `fn` on a path, turning an fs error into an FsError about that path. */
function at<T>(path: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    throw fsErrorFrom(e, path);
  }
}

function childrenOf(dir: string): string[] {
  return readdirSync(dir)
    .sort()
    .map((n) => (dir === '/' ? `/${n}` : `${dir}/${n}`));
}

/** Deletes a file, a symlink or an empty directory; with `recursive`, a whole tree (links not followed). */
export function removePath(path: string, recursive: boolean): string[] {
  if (path === '/') throw badRequest('refusing to delete /', path);
  const deleted: string[] = [];
  const remove = (p: string) => {
    const st = at(p, () => lstatSync(p));
    if (st.isDirectory()) {
      if (recursive) for (const child of at(p, () => childrenOf(p))) remove(child);
      at(p, () => rmdirSync(p));
    } else {
      at(p, () => unlinkSync(p));
    }
    deleted.push(p);
  };
  remove(path);
  return deleted;
}

export function renamePath(source: string, dest: string): void {
  at(source, () => lstatSync(source));
  at(dest, () => renameSync(source, dest));
}

export interface CopyResult {
  copied: { source: string; dest: string }[];
  count: number;
  totalBytes: number;
}

/**
 * Copies a file (a reflink on btrfs when possible) or, with `recursive`, a tree; symlinks are
 * copied as symlinks. `preserveAttrs` keeps mode and times (and owner when the caller may).
 */
export function copyPath(
  source: string,
  dest: string,
  opts: { recursive: boolean; preserveAttrs: boolean },
): CopyResult {
  const result: CopyResult = { copied: [], count: 0, totalBytes: 0 };
  const top = at(source, () => lstatSync(source));
  if (top.isDirectory() && !opts.recursive)
    throw new FsError(400, 'EISDIR', `'${source}' is a directory; pass recursive=true to copy it`, source);
  if (top.isDirectory() && (dest === source || dest.startsWith(`${source}/`)))
    throw badRequest(`cannot copy '${source}' into itself`, dest);
  const keep = (st: Stats, to: string, link: boolean) => {
    if (!opts.preserveAttrs) return;
    if (!link) at(to, () => chmodSync(to, st.mode & 0o7777));
    try {
      (link ? lchownSync : chownSync)(to, st.uid, st.gid);
    } catch {
      // only root may give files away; mode and times still apply
    }
    if (link) at(to, () => lutimesSync(to, st.atime, st.mtime));
    else at(to, () => utimesSync(to, st.atime, st.mtime));
  };
  const copy = (from: string, to: string) => {
    const st = at(from, () => lstatSync(from));
    if (st.isDirectory()) {
      at(to, () => mkdirSync(to, { mode: st.mode & 0o777 }));
      for (const child of at(from, () => childrenOf(from))) copy(child, posix.join(to, posix.basename(child)));
      keep(st, to, false);
    } else if (st.isSymbolicLink()) {
      const target = at(from, () => readlinkSync(from));
      at(to, () => symlinkSync(target, to));
      keep(st, to, true);
    } else if (st.isFile()) {
      at(to, () => copyFileSync(from, to, constants.COPYFILE_FICLONE));
      keep(st, to, false);
      result.totalBytes += st.size;
    } else {
      throw new FsError(400, 'EINVAL', `'${from}' is not a regular file, directory or symlink`, from);
    }
    result.copied.push({ source: from, dest: to });
  };
  copy(source, dest);
  result.count = result.copied.length;
  return result;
}

/** chmod; with `recursive`, everything below too (symlinks are skipped: their mode means nothing). */
export function chmodPath(path: string, mode: number, recursive: boolean): { path: string; mode: string }[] {
  const affected: { path: string; mode: string }[] = [];
  const apply = (p: string, st: Stats) => {
    if (!st.isSymbolicLink()) {
      at(p, () => chmodSync(p, mode));
      affected.push({ path: p, mode: formatMode(mode) });
    }
    if (recursive && st.isDirectory())
      for (const child of at(p, () => childrenOf(p)))
        apply(
          child,
          at(child, () => lstatSync(child)),
        );
  };
  apply(
    path,
    at(path, () => statSync(path)),
  );
  return affected;
}

/** chown (uid/gid -1: unchanged); with `recursive`, everything below too, links themselves. */
export function chownPath(
  path: string,
  uid: number,
  gid: number,
  recursive: boolean,
): { path: string; uid: number; gid: number }[] {
  const affected: { path: string; uid: number; gid: number }[] = [];
  const apply = (p: string, st: Stats) => {
    at(p, () => lchownSync(p, uid, gid));
    affected.push({ path: p, uid: uid === -1 ? st.uid : uid, gid: gid === -1 ? st.gid : gid });
    if (recursive && st.isDirectory())
      for (const child of at(p, () => childrenOf(p)))
        apply(
          child,
          at(child, () => lstatSync(child)),
        );
  };
  apply(
    path,
    at(path, () => lstatSync(path)),
  );
  return affected;
}
