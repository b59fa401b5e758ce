import { lstatSync, readdirSync } from 'node:fs';
import type { WebSocket } from 'ws';
import { agentNative, type InotifyHandle } from '../native.js';
import { FsError, fsErrorFrom } from './errors.js';
import { asIdentity, SPRITE_IDENTITY } from './identity.js';
import { resolvePath } from './paths.js';
import { UPLOAD_TEMP } from './transfer.js';

// inotify(7) masks.
const IN_MODIFY = 0x2;
const IN_ATTRIB = 0x4;
const IN_MOVED_FROM = 0x40;
const IN_MOVED_TO = 0x80;
const IN_CREATE = 0x100;
const IN_DELETE = 0x200;
const IN_DELETE_SELF = 0x400;
const IN_MOVE_SELF = 0x800;
const IN_IGNORED = 0x8000;
const IN_ISDIR = 0x40000000;
const IN_DONT_FOLLOW = 0x2000000;
const WATCH_MASK =
  IN_MODIFY | IN_ATTRIB | IN_MOVED_FROM | IN_MOVED_TO | IN_CREATE | IN_DELETE | IN_DELETE_SELF | IN_MOVE_SELF;

/** Directories watched per socket, at most (a recursive watch of a huge tree stops here). */
const MAX_WATCHES = 8192;
/** Repeated writes to one file within this window are one event. */
const WRITE_COALESCE_MS = 50;

type FsEventName = 'write' | 'create' | 'remove' | 'rename' | 'chmod';

interface SubscribeMessage {
  type: 'subscribe';
  paths?: unknown;
  recursive?: unknown;
  workingDir?: unknown;
}

/**
 * WSS /v1/sprites/{name}/fs/watch (PLATFORM §1.3): the client subscribes to paths, then gets
 * `event` messages (create, write, remove, rename, chmod) for them, read from inotify. Paths
 * are watched with the permissions of user `sprite`.
 */
export function serveFsWatch(ws: WebSocket): void {
  const native = agentNative();
  const send = (msg: Record<string, unknown>) => ws.readyState === ws.OPEN && ws.send(JSON.stringify(msg));
  if (!native) {
    send({ type: 'error', message: 'fs watch is unavailable: the agent has no native addon' });
    ws.close(1011, 'fs watch unavailable');
    return;
  }
  const dirs = new Map<number, string>();
  const lastWrite = new Map<string, number>();
  const roots = new Set<string>();
  const uploads = new Set<number>();
  let recursive = false;
  let handle: InotifyHandle | null = null;

  /** Watches `path` (and with `walk`, the directories below; `announce` reports what is already there). */
  const addWatch = (path: string, walk: boolean, announce = false) => {
    if (dirs.size >= MAX_WATCHES)
      throw new FsError(400, 'EINVAL', `more than ${MAX_WATCHES} directories to watch; watch a smaller tree`, path);
    const wd = asIdentity(SPRITE_IDENTITY, () => native.watchAdd(handle!, path, WATCH_MASK | IN_DONT_FOLLOW));
    dirs.set(wd, path);
    if (!walk) return;
    let names: string[];
    try {
      names = readdirSync(path);
    } catch {
      return;
    }
    for (const name of names) {
      const child = path === '/' ? `/${name}` : `${path}/${name}`;
      try {
        const isDir = lstatSync(child).isDirectory();
        // Made before its directory's watch existed: would otherwise never be reported.
        if (announce) emit(child, 'create', isDir);
        if (isDir) addWatch(child, true, announce);
      } catch (e) {
        if (e instanceof FsError) throw e;
      }
    }
  };

  const emit = (path: string, event: FsEventName, isDirHint: boolean) => {
    if (event === 'write') {
      const now = Date.now();
      if (now - (lastWrite.get(path) ?? 0) < WRITE_COALESCE_MS) return;
      lastWrite.set(path, now);
    }
    let size = 0;
    let isDir = isDirHint;
    if (event !== 'remove') {
      try {
        const st = lstatSync(path);
        size = st.size;
        isDir = st.isDirectory();
      } catch {
        // gone meanwhile
      }
    }
    send({ type: 'event', path, event, timestamp: new Date().toISOString(), size, isDir });
  };

  const onEvents = (flat: (number | string)[]) => {
    for (let i = 0; i + 3 < flat.length; i += 4) {
      const wd = flat[i] as number;
      const mask = flat[i + 1] as number;
      const name = flat[i + 3] as string;
      const base = dirs.get(wd);
      if (base === undefined) continue;
      if (mask & IN_IGNORED) {
        dirs.delete(wd);
        continue;
      }
      const path = name ? (base === '/' ? `/${name}` : `${base}/${name}`) : base;
      const isDir = (mask & IN_ISDIR) !== 0;
      const cookie = flat[i + 2] as number;
      // An upload is written under a temporary name and renamed onto its target: that shows
      // as one write of the target, and the temporary file never shows.
      if (UPLOAD_TEMP.test(name)) {
        if (mask & IN_MOVED_FROM) uploads.add(cookie);
        continue;
      }
      if (mask & IN_MOVED_TO && uploads.delete(cookie)) {
        emit(path, 'write', false);
        continue;
      }
      if (mask & IN_CREATE) {
        emit(path, 'create', isDir);
        if (isDir && recursive) {
          try {
            addWatch(path, true, true);
          } catch {
            // unreadable or too many: its own events are missed, the rest go on
          }
        }
      }
      if (mask & IN_MODIFY) emit(path, 'write', isDir);
      if (mask & IN_ATTRIB) emit(path, 'chmod', isDir);
      if (mask & (IN_MOVED_FROM | IN_MOVED_TO)) emit(path, 'rename', isDir);
      if (mask & IN_DELETE) emit(path, 'remove', isDir);
      // A subscribed path itself went away; below it, the parent's watch already told.
      if (!name && roots.has(path) && mask & IN_DELETE_SELF) emit(path, 'remove', isDir);
      if (!name && roots.has(path) && mask & IN_MOVE_SELF) emit(path, 'rename', isDir);
    }
  };

  const close = () => {
    if (handle) native.watchClose(handle);
    handle = null;
  };
  ws.on('close', close);
  ws.on('error', close);
  ws.on('message', (data: Buffer, isBinary: boolean) => {
    if (isBinary) return;
    let msg: SubscribeMessage;
    try {
      msg = JSON.parse(data.toString('utf8')) as SubscribeMessage;
    } catch {
      return void send({
        type: 'error',
        message: 'messages must be JSON, e.g. {"type":"subscribe","paths":["/home/sprite"]}',
      });
    }
    if (msg.type !== 'subscribe')
      return void send({ type: 'error', message: `unknown message type ${JSON.stringify(msg.type)}` });
    const paths = Array.isArray(msg.paths) ? msg.paths : typeof msg.paths === 'string' ? [msg.paths] : [];
    if (paths.length === 0) return void send({ type: 'error', message: 'subscribe needs paths: ["..."]' });
    recursive = msg.recursive === true;
    handle ??= native.watchOpen(onEvents);
    const watched: string[] = [];
    for (const p of paths) {
      let path = '';
      try {
        path = resolvePath(p, msg.workingDir);
        const isDir = lstatSync(path).isDirectory();
        addWatch(path, isDir && recursive);
        watched.push(path);
        roots.add(path);
      } catch (e) {
        const err = fsErrorFrom(e, path || String(p));
        send({ type: 'error', path: err.path, message: err.message });
      }
    }
    send({ type: 'subscribed', paths: watched });
  });
}
