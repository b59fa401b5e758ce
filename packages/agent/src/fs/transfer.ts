import { randomBytes } from 'node:crypto';
import {
  closeSync,
  constants,
  createReadStream,
  createWriteStream,
  fchmodSync,
  fchownSync,
  fstatSync,
  fsync,
  lstatSync,
  readlinkSync,
  mkdirSync,
  openSync,
  readSync,
  renameSync,
  unlinkSync,
  type Stats,
} from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { posix } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';
import { badRequest, FsError, fsErrorFrom } from './errors.js';
import { asIdentity, type FsIdentity } from './identity.js';
import { formatMode } from './paths.js';

const fsyncAsync = promisify(fsync);

/** Uploads land under this name next to their target first (watchers hide them). */
export const UPLOAD_TEMP = /^\..+\.upload-[0-9a-f]{12}$/;
const uploadTempName = (base: string) => `.${base}.upload-${randomBytes(6).toString('hex')}`;
const CHUNK = 1024 * 1024;
/** Files up to this size are read in one synchronous call. */
const SMALL_FILE = 64 * 1024;

export interface ByteRange {
  start: number;
  /** Exclusive; undefined: to the end. */
  end?: number;
}

/** `Range: bytes=a-b` (one range, inclusive end) or `start`/`end` query offsets (end exclusive). */
export function parseRange(header: string | undefined, start: string | null, end: string | null): ByteRange | null {
  if (header) {
    const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
    if (!m || (m[1] === '' && m[2] === ''))
      throw new FsError(
        416,
        'EINVAL',
        `unsupported Range header ${JSON.stringify(header)}; send one range such as bytes=0-1023`,
      );
    if (m[1] === '') return { start: -Number(m[2]) }; // suffix: the last N bytes
    return { start: Number(m[1]), end: m[2] === '' ? undefined : Number(m[2]) + 1 };
  }
  if (start === null && end === null) return null;
  const s = start === null ? 0 : Number(start);
  const e = end === null || end === '' || Number(end) <= 0 ? undefined : Number(end);
  if (!Number.isSafeInteger(s) || s < 0 || (e !== undefined && (!Number.isSafeInteger(e) || e < s)))
    throw badRequest('start and end must be byte offsets with start <= end');
  return { start: s, end: e };
}

/** GET fs/read: the file's bytes, streamed from an fd opened with the caller's permissions. */
export async function readFileTo(
  res: ServerResponse,
  path: string,
  who: FsIdentity,
  range: ByteRange | null,
  fromHeader: boolean,
): Promise<void> {
  let fd: number;
  let st: Stats;
  try {
    fd = asIdentity(who, () => openSync(path, constants.O_RDONLY | constants.O_NONBLOCK));
    st = fstatSync(fd);
  } catch (e) {
    throw fsErrorFrom(e, path);
  }
  if (st.isDirectory()) {
    closeSync(fd);
    throw new FsError(400, 'EISDIR', `'${path}' is a directory; list it with fs/list`, path);
  }
  let start = 0;
  let end = st.size; // exclusive
  if (range) {
    start = range.start < 0 ? Math.max(0, st.size + range.start) : range.start;
    end = Math.min(st.size, range.end ?? st.size);
    if (start > st.size || (fromHeader && start >= st.size && st.size > 0)) {
      closeSync(fd);
      res.writeHead(416, { 'content-type': 'application/json', 'content-range': `bytes */${st.size}` });
      res.end(
        JSON.stringify({ error: `range starts past the end of the file (${st.size} bytes)`, code: 'EINVAL', path }),
      );
      return;
    }
  }
  const length = Math.max(0, end - start);
  const headers: Record<string, string | number> = {
    'content-type': 'application/octet-stream',
    'content-length': length,
  };
  if (range && fromHeader) headers['content-range'] = `bytes ${start}-${start + length - 1}/${st.size}`;
  res.writeHead(range && fromHeader ? 206 : 200, headers);
  if (length === 0) {
    closeSync(fd);
    res.end();
    return;
  }
  if (length <= SMALL_FILE) {
    // Small reads in one call: no stream, no thread pool round trips.
    const buf = Buffer.allocUnsafe(length);
    let got = 0;
    try {
      while (got < length) {
        const n = readSync(fd, buf, got, length - got, start + got);
        if (n === 0) break;
        got += n;
      }
    } finally {
      closeSync(fd);
    }
    res.end(got === length ? buf : buf.subarray(0, got));
    return;
  }
  const stream = createReadStream('', { fd, start, end: end - 1, highWaterMark: CHUNK, autoClose: true });
  await pipeline(stream, res).catch(() => res.destroy());
}

export interface WriteOptions {
  mode?: number;
  mkdirParents: boolean;
}

/**
 * PUT fs/write: the body goes to a temporary file next to the target, which replaces the
 * target only once every byte is on disk (fsync, rename, fsync of the directory). A failed
 * or cut-off upload (quota, disconnect) leaves the old file, or none, never a partial one.
 */
export async function writeFileFrom(
  req: IncomingMessage,
  path: string,
  who: FsIdentity,
  opts: WriteOptions,
): Promise<{ path: string; size: number; mode: string }> {
  if (path.endsWith('/')) throw new FsError(400, 'EISDIR', `'${path}' names a directory; give a file path`, path);
  // Writing to a symlink writes its target, as open(2) would: never replaces the link.
  path = asIdentity(who, () => symlinkTarget(path));
  const dir = posix.dirname(path);
  const temp = posix.join(dir, uploadTempName(posix.basename(path)));
  let fd = -1;
  let inPlace = false;
  let mode = opts.mode ?? 0o644;
  try {
    asIdentity(who, () => {
      if (opts.mkdirParents) mkdirSync(dir, { recursive: true, mode: 0o755 });
      let existing: Stats | null = null;
      try {
        existing = lstatSync(path);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      }
      if (existing?.isDirectory()) throw new FsError(400, 'EISDIR', `'${path}' is a directory`, path);
      if (existing && opts.mode === undefined) mode = existing.mode & 0o7777;
      try {
        fd = openSync(temp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
      } catch (e) {
        // A file the caller may write in a directory it may not create in: write in place.
        if ((e as NodeJS.ErrnoException).code !== 'EACCES' || !existing) throw e;
        fd = openSync(path, constants.O_WRONLY | constants.O_TRUNC);
        inPlace = true;
      }
      // Root replacing someone's file keeps it theirs.
      if (existing && !inPlace && who.uid === 0) fchownSync(fd, existing.uid, existing.gid);
      fchmodSync(fd, mode);
    });
  } catch (e) {
    if (fd >= 0) closeSync(fd);
    throw fsErrorFrom(e, path);
  }
  let size: number;
  try {
    size = await receiveBody(req, fd, path);
    await fsyncAsync(fd);
    closeSync(fd);
    fd = -1;
    if (!inPlace) asIdentity(who, () => renameSync(temp, path));
    await syncDirectory(dir);
    return { path, size, mode: formatMode(mode) };
  } catch (e) {
    if (fd >= 0) closeSync(fd);
    if (!inPlace) {
      try {
        asIdentity(who, () => unlinkSync(temp));
      } catch {
        // already gone
      }
    }
    throw fsErrorFrom(e, path);
  }
}

/**
 * Copies the request body into `fd`, with backpressure. On a write error the rest of the
 * body is read and dropped, so the error response still reaches the client.
 */
function receiveBody(req: IncomingMessage, fd: number, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    let size = 0;
    let settled = false;
    const fail = (e: Error) => {
      if (settled) return;
      settled = true;
      req.unpipe(out);
      req.resume();
      reject(e);
    };
    const out = createWriteStream('', { fd, autoClose: false, highWaterMark: CHUNK });
    out.on('error', fail);
    out.on('finish', () => {
      if (settled) return;
      settled = true;
      resolve(size);
    });
    req.on('data', (c: Buffer) => (size += c.length));
    req.on('error', fail);
    req.on('close', () => {
      if (!req.complete) fail(new FsError(400, 'EIO', 'the upload ended early; nothing was written', path));
    });
    req.pipe(out);
  });
}

/** The file a write to `path` lands in: `path`, or what its chain of symlinks points to. */
function symlinkTarget(path: string): string {
  for (let hops = 0; hops < 40; hops++) {
    let st: Stats;
    try {
      st = lstatSync(path);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return path;
      throw fsErrorFrom(e, path);
    }
    if (!st.isSymbolicLink()) return path;
    path = posix.resolve(posix.dirname(path), readlinkSync(path));
  }
  throw new FsError(400, 'ELOOP', `too many levels of symbolic links at '${path}'`, path);
}

async function syncDirectory(dir: string): Promise<void> {
  const fd = openSync(dir, constants.O_RDONLY | constants.O_DIRECTORY);
  try {
    await fsyncAsync(fd);
  } finally {
    closeSync(fd);
  }
}
