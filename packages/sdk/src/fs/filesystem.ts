import type { CallOptions, Deadline } from '../abort.js';
import { spritePath } from '@sprites/protocol';
import { APIError, FilesystemError, type FilesystemErrorCode } from '../errors.js';
import { readBytes, readText, type Query, type StreamingResponse } from '../http.js';
import { chunksOf, type InputSource, type SpriteContext, type StreamKinds } from '../platform.js';
import type { NodeStreamKinds } from '../node/kinds.js';
import { FilesystemWatcher, type FilesystemWatchOptions } from './watch.js';

/** File metadata, shaped like `node:fs` Stats (from the sprite's point of view). */
export interface Stats {
  name: string;
  path: string;
  size: number;
  /** Permission bits and type bits, as `node:fs` reports `mode`. */
  mode: number;
  mtime: Date;
  atime: Date;
  birthtime: Date;
  isDirectory(): boolean;
  isFile(): boolean;
  isSymbolicLink(): boolean;
}

/** A directory entry (`readdir` with `withFileTypes`). */
export interface Dirent {
  name: string;
  parentPath: string;
  /** The entry's full path. */
  path: string;
  isDirectory(): boolean;
  isFile(): boolean;
  isSymbolicLink(): boolean;
}

export interface ReaddirOptions extends CallOptions {
  withFileTypes?: boolean;
  /** Everything below the directory, paths relative to it (as `node:fs`). */
  recursive?: boolean;
  /** Only names matching this shell pattern (`*.ts`). */
  pattern?: string;
  asRoot?: boolean;
}
export interface ReadFileOptions extends CallOptions {
  encoding?: 'utf8' | null;
  /** First byte to read (inclusive). */
  start?: number;
  /** Last byte to read (inclusive), as `fs.createReadStream`. */
  end?: number;
  asRoot?: boolean;
}
export interface WriteFileOptions extends CallOptions {
  /** Permission bits of a new file (default 0644). */
  mode?: number;
  /** Create missing parent directories (default true). */
  mkdirParents?: boolean;
  asRoot?: boolean;
}
export interface MkdirOptions extends CallOptions {
  recursive?: boolean;
  mode?: number;
  asRoot?: boolean;
}
export interface RmOptions extends CallOptions {
  /** No error when the path does not exist. */
  force?: boolean;
  recursive?: boolean;
  asRoot?: boolean;
}
export interface CopyFileOptions extends CallOptions {
  recursive?: boolean;
  preserveAttrs?: boolean;
  asRoot?: boolean;
}
export interface ChmodOptions extends CallOptions {
  recursive?: boolean;
  asRoot?: boolean;
}
export interface RenameOptions extends CallOptions {
  asRoot?: boolean;
}
export interface ChownOptions extends CallOptions {
  uid?: number;
  gid?: number;
  recursive?: boolean;
  asRoot?: boolean;
}

interface WireEntry {
  name: string;
  path: string;
  type: string;
  size: number;
  mode: string;
  modTime: string;
  isDir: boolean;
}

const TYPE_BITS: Record<string, number> = { directory: 0o040000, symlink: 0o120000, file: 0o100000 };

function statsOf(e: WireEntry): Stats {
  const mtime = new Date(e.modTime);
  const type = e.type;
  return {
    name: e.name,
    path: e.path,
    size: e.size,
    mode: (TYPE_BITS[type] ?? 0o100000) | parseInt(e.mode, 8),
    mtime,
    atime: mtime,
    birthtime: mtime,
    isDirectory: () => type === 'directory',
    isFile: () => type === 'file',
    isSymbolicLink: () => type === 'symlink',
  };
}

function direntOf(e: WireEntry, base: string, relativeTo?: string): Dirent {
  const parentPath = e.path.slice(0, e.path.length - e.name.length - 1) || '/';
  const name = relativeTo !== undefined ? e.path.slice(relativeTo.length + (relativeTo.endsWith('/') ? 0 : 1)) : e.name;
  void base;
  return {
    name,
    parentPath,
    path: e.path,
    isDirectory: () => e.type === 'directory',
    isFile: () => e.type === 'file',
    isSymbolicLink: () => e.type === 'symlink',
  };
}

function octal(mode: number): string {
  return `0${(mode & 0o7777).toString(8)}`;
}

/** ReadableStream body from anything a caller can write (fetch needs a stream for streaming). */
function bodyOf(data: InputSource): Uint8Array | string | ReadableStream<Uint8Array> {
  if (typeof data === 'string' || data instanceof Uint8Array) return data;
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (typeof ReadableStream !== 'undefined' && data instanceof ReadableStream) return data;
  const iterator = chunksOf(data);
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const { done, value } = await iterator.next();
      // A copy: the producer may reuse its buffer once it is asked for the next chunk, while
      // fetch may still hold this one (node:fs writeFile allows that reuse too).
      if (done) controller.close();
      else controller.enqueue(new Uint8Array(value)); // Buffer#slice would not copy
    },
    async cancel() {
      await iterator.return(undefined);
    },
  });
}

/**
 * The sprite's filesystem, shaped like `node:fs/promises`. Relative paths resolve against
 * the working directory this was made with. Errors are {@link FilesystemError}s with Node's
 * `code`s (`ENOENT`, `EACCES`, …). Files stream: large reads and writes never sit in memory
 * whole unless you ask for the whole content.
 */
export class SpriteFilesystem<K extends StreamKinds = NodeStreamKinds> {
  private readonly ctx: SpriteContext<K>;
  /** The directory relative paths resolve against. */
  readonly workingDir: string;

  /** @internal Use `sprite.filesystem(dir)`. */
  constructor(ctx: SpriteContext<K>, workingDir = '/') {
    this.ctx = ctx;
    this.workingDir = workingDir;
  }

  /** The whole file: a string with `'utf8'`, else bytes (a Buffer on Node). */
  readFile(path: string, encoding: 'utf8' | ({ encoding: 'utf8' } & ReadFileOptions)): Promise<string>;
  readFile(path: string, encoding?: null | ReadFileOptions): Promise<K['bytes']>;
  async readFile(path: string, options?: 'utf8' | null | ReadFileOptions): Promise<string | K['bytes']> {
    const opts: ReadFileOptions = typeof options === 'string' ? { encoding: options } : (options ?? {});
    const response = await this.read(path, opts);
    if (opts.encoding === 'utf8') return readText(response);
    return this.ctx.platform.bytes(await readBytes(response));
  }

  /** The file as a stream (a Node Readable on Node, a ReadableStream in browsers). */
  async createReadStream(path: string, options: Omit<ReadFileOptions, 'encoding'> = {}): Promise<K['readable']> {
    const { response, deadline } = await this.readStreaming(path, options);
    if (!response.body) {
      deadline.dispose();
      throw new FilesystemError(`no content for ${path}`, 'EIO', path, 'read');
    }
    return this.ctx.platform.fromWeb(releasedAtEnd(response.body, deadline));
  }

  /** Writes a file atomically (a reader never sees half of it); data may be a stream. */
  async writeFile(path: string, data: InputSource, options: WriteFileOptions = {}): Promise<void> {
    await this.call('PUT', 'write', path, {
      query: {
        path,
        workingDir: this.workingDir,
        mode: options.mode === undefined ? undefined : octal(options.mode),
        mkdirParents: String(options.mkdirParents ?? true),
        asRoot: options.asRoot ? 'true' : undefined,
      },
      body: bodyOf(data),
      ...this.callOpts(options, 0),
    });
  }

  /** Appends by reading and rewriting the file (atomic, but not for concurrent appenders). */
  async appendFile(path: string, data: string | Uint8Array, options: WriteFileOptions = {}): Promise<void> {
    let current: Uint8Array = new Uint8Array();
    try {
      current = await this.readFile(path, { signal: options.signal, asRoot: options.asRoot });
    } catch (e) {
      if (!(e instanceof FilesystemError && e.code === 'ENOENT')) throw e;
    }
    const extra = typeof data === 'string' ? new TextEncoder().encode(data) : data;
    const all = new Uint8Array(current.length + extra.length);
    all.set(current, 0);
    all.set(extra, current.length);
    await this.writeFile(path, all, options);
  }

  async readJSON<T = unknown>(path: string, options: CallOptions = {}): Promise<T> {
    return JSON.parse(await this.readFile(path, { encoding: 'utf8', ...options })) as T;
  }

  async writeJSON(path: string, data: unknown, options: WriteFileOptions & { spaces?: number } = {}): Promise<void> {
    await this.writeFile(path, `${JSON.stringify(data, null, options.spaces ?? 2)}\n`, options);
  }

  /** Names in a directory, or Dirents with `withFileTypes`. */
  readdir(path: string, options: ReaddirOptions & { withFileTypes: true }): Promise<Dirent[]>;
  readdir(path: string, options?: ReaddirOptions & { withFileTypes?: false }): Promise<string[]>;
  async readdir(path: string, options: ReaddirOptions = {}): Promise<string[] | Dirent[]> {
    const st = await this.stat(path, { signal: options.signal, asRoot: options.asRoot, follow: true });
    if (!st.isDirectory())
      throw new FilesystemError(`ENOTDIR: not a directory, scandir '${path}'`, 'ENOTDIR', path, 'scandir');
    const listing = await this.list(st.path.endsWith('/') ? st.path : `${st.path}/`, options);
    const dirents = listing.entries.map((e) => direntOf(e, listing.path, options.recursive ? listing.path : undefined));
    return options.withFileTypes ? dirents : dirents.map((d) => d.name);
  }

  /** Metadata of a path; a symlink is followed (`lstat` does not). */
  async stat(path: string, options: CallOptions & { asRoot?: boolean; follow?: boolean } = {}): Promise<Stats> {
    const response = await this.call('GET', 'stat', path, {
      query: {
        path,
        workingDir: this.workingDir,
        follow: options.follow === false ? undefined : 'true',
        asRoot: options.asRoot ? 'true' : undefined,
      },
      ...this.callOpts(options),
    });
    return statsOf(JSON.parse(await readText(response)) as WireEntry);
  }

  /** Metadata of a path itself (a symlink is not followed). */
  lstat(path: string, options: CallOptions & { asRoot?: boolean } = {}): Promise<Stats> {
    return this.stat(path, { ...options, follow: false });
  }

  async exists(path: string, options: CallOptions = {}): Promise<boolean> {
    try {
      await this.lstat(path, options);
      return true;
    } catch (e) {
      if (e instanceof FilesystemError && (e.code === 'ENOENT' || e.code === 'ENOTDIR')) return false;
      throw e;
    }
  }

  async mkdir(path: string, options: MkdirOptions = {}): Promise<void> {
    await this.postJson(
      'mkdir',
      path,
      {
        path,
        workingDir: this.workingDir,
        recursive: options.recursive ?? false,
        mode: options.mode === undefined ? undefined : octal(options.mode),
        asRoot: options.asRoot ?? false,
      },
      options,
    );
  }

  async rm(path: string, options: RmOptions = {}): Promise<void> {
    try {
      await this.call('DELETE', 'delete', path, {
        query: {
          path,
          workingDir: this.workingDir,
          recursive: options.recursive ? 'true' : undefined,
          asRoot: options.asRoot ? 'true' : undefined,
        },
        ...this.callOpts(options),
      }).then(readText);
    } catch (e) {
      if (options.force && e instanceof FilesystemError && e.code === 'ENOENT') return;
      throw e;
    }
  }

  async rename(oldPath: string, newPath: string, options: RenameOptions = {}): Promise<void> {
    await this.postJson(
      'rename',
      oldPath,
      { source: oldPath, dest: newPath, workingDir: this.workingDir, asRoot: options.asRoot ?? false },
      options,
    );
  }

  async copyFile(src: string, dest: string, options: CopyFileOptions = {}): Promise<void> {
    await this.postJson(
      'copy',
      src,
      {
        source: src,
        dest,
        workingDir: this.workingDir,
        recursive: options.recursive ?? false,
        preserveAttrs: options.preserveAttrs ?? false,
        asRoot: options.asRoot ?? false,
      },
      options,
    );
  }

  async chmod(path: string, mode: number, options: ChmodOptions = {}): Promise<void> {
    await this.postJson(
      'chmod',
      path,
      {
        path,
        workingDir: this.workingDir,
        mode: octal(mode),
        recursive: options.recursive ?? false,
        asRoot: options.asRoot ?? false,
      },
      options,
    );
  }

  async chown(path: string, options: ChownOptions): Promise<void> {
    await this.postJson(
      'chown',
      path,
      {
        path,
        workingDir: this.workingDir,
        uid: options.uid ?? -1,
        gid: options.gid ?? -1,
        recursive: options.recursive ?? false,
        asRoot: options.asRoot ?? false,
      },
      options,
    );
  }

  /** Watches paths for changes; iterate the watcher, close it when done. */
  async watch(paths: string | readonly string[], options: FilesystemWatchOptions = {}): Promise<FilesystemWatcher> {
    const watcher = new FilesystemWatcher(
      this.ctx,
      typeof paths === 'string' ? [paths] : [...paths],
      this.workingDir,
      options,
    );
    await watcher.ready();
    return watcher;
  }

  private async list(path: string, options: ReaddirOptions): Promise<{ path: string; entries: WireEntry[] }> {
    const response = await this.call('GET', 'list', path, {
      query: {
        path,
        workingDir: this.workingDir,
        recursive: options.recursive ? 'true' : undefined,
        pattern: options.pattern,
        asRoot: options.asRoot ? 'true' : undefined,
      },
      ...this.callOpts(options),
    });
    return JSON.parse(await readText(response)) as { path: string; entries: WireEntry[] };
  }

  private readQuery(path: string, opts: ReadFileOptions): { query: Query; headers: Record<string, string> } {
    const query: Query = { path, workingDir: this.workingDir, asRoot: opts.asRoot ? 'true' : undefined };
    const headers: Record<string, string> = {};
    if (opts.start !== undefined || opts.end !== undefined)
      headers.range = `bytes=${opts.start ?? 0}-${opts.end ?? ''}`;
    return { query, headers };
  }

  private read(path: string, opts: ReadFileOptions): Promise<Response> {
    return this.call('GET', 'read', path, {
      ...this.readQuery(path, opts),
      expect: [200, 206],
      ...this.callOpts(opts),
    });
  }

  /** A read whose body streams; its deadline (and the caller's signal) stays linked until released. */
  private async readStreaming(path: string, opts: ReadFileOptions): Promise<StreamingResponse> {
    try {
      return await this.ctx.transport.send('GET', spritePath('fs', { name: this.ctx.name, op: 'read' }), {
        ...this.readQuery(path, opts),
        expect: [200, 206],
        streaming: true,
        ...this.callOpts(opts, 0),
      });
    } catch (e) {
      throw toFilesystemError(e, path, 'read');
    }
  }

  private async postJson(op: string, path: string, body: Record<string, unknown>, opts: CallOptions): Promise<void> {
    for (const k of Object.keys(body)) if (body[k] === undefined) delete body[k];
    await this.call('POST', op, path, { json: body, ...this.callOpts(opts) }).then(readText);
  }

  private callOpts(opts: CallOptions, timeout?: number): CallOptions {
    const out: CallOptions = {};
    if (opts.signal) out.signal = opts.signal;
    const t = opts.timeout ?? timeout;
    if (t !== undefined) out.timeout = t;
    return out;
  }

  private async call(
    method: string,
    op: string,
    path: string,
    opts: Omit<NonNullable<Parameters<SpriteContext<K>['transport']['send']>[2]>, 'streaming'>,
  ): Promise<Response> {
    // Not streaming: the body is read at once (readText/readBytes), which releases the deadline.
    try {
      return await this.ctx.transport.send(method, spritePath('fs', { name: this.ctx.name, op }), {
        ...opts,
        streaming: false,
      });
    } catch (e) {
      throw toFilesystemError(e, path, op);
    }
  }
}

/**
 * The body, releasing the request's deadline (its timer and its listener on the caller's
 * AbortSignal) once the body ends, fails or is cancelled: one signal shared by many reads
 * must not collect a listener per read.
 */
function releasedAtEnd(body: ReadableStream<Uint8Array>, deadline: Deadline): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        try {
          const { done, value } = await reader.read();
          if (done) {
            deadline.dispose();
            controller.close();
          } else controller.enqueue(value);
        } catch (e) {
          deadline.dispose();
          controller.error(deadline.aborted ? deadline.reason : e);
        }
      },
      cancel(reason) {
        deadline.dispose();
        return reader.cancel(reason);
      },
    },
    { highWaterMark: 0 },
  );
}

const KNOWN_CODES = new Set<FilesystemErrorCode>([
  'ENOENT',
  'EEXIST',
  'ENOTDIR',
  'EISDIR',
  'EACCES',
  'EPERM',
  'ENOTEMPTY',
  'EINVAL',
  'EIO',
  'ELOOP',
  'ENAMETOOLONG',
  'ENOSPC',
  'EDQUOT',
  'EROFS',
  'EXDEV',
  'EBUSY',
]);

/** An APIError from the fs endpoints (`{error, code, path}`) becomes a FilesystemError. */
function toFilesystemError(e: unknown, path: string, op: string): unknown {
  if (!(e instanceof APIError)) return e;
  const raw = typeof e.body?.code === 'string' ? e.body.code : '';
  // A 404 without an errno is about the sprite (or the endpoint), not the file.
  if (raw === '') return e;
  const code = (KNOWN_CODES.has(raw as FilesystemErrorCode) ? raw : 'UNKNOWN') as FilesystemErrorCode;
  const message = typeof e.body?.error === 'string' ? e.body.error : e.message;
  const where = typeof e.body?.path === 'string' ? e.body.path : path;
  return new FilesystemError(message, code, where, op, e.statusCode);
}
