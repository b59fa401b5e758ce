import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The agent's Node-API addon (native/agent-native.c). */
export interface AgentNative {
  /** [pid, stdin fd or -1, stdout fd, stderr fd]; throws with .code = errno name. */
  spawn(
    file: string,
    argv: string[],
    envp: string[],
    cwd: string,
    uid: number,
    gid: number,
    withStdin: boolean,
    onExit: (code: number, signal: number) => void,
  ): [number, number, number, number];
  /** Filesystem uid, gid and groups of the calling (main) thread only; false if refused. */
  setFsIdentity(uid: number, gid: number, groups: number[]): boolean;
  /** An inotify instance read by a native thread; events arrive as [wd, mask, cookie, name, ...]. */
  watchOpen(onEvents: (flat: (number | string)[]) => void): InotifyHandle;
  /** inotify_add_watch; throws with .code = errno name. */
  watchAdd(handle: InotifyHandle, path: string, mask: number): number;
  watchRemove(handle: InotifyHandle, wd: number): void;
  watchClose(handle: InotifyHandle): void;
}

/** Opaque: the native watcher behind a watch socket. */
export interface InotifyHandle {
  readonly __inotify: unique symbol;
}

let loaded: AgentNative | null | undefined;

/**
 * The addon sits next to the agent bundle; under tsx (unit tests) it is found in the build
 * folder. Null when it cannot be loaded: callers fall back or refuse.
 */
export function agentNative(): AgentNative | null {
  if (loaded !== undefined) return loaded;
  // The bundle is CommonJS (require and __dirname exist); under tsx this module is ESM.
  const load = typeof require === 'function' ? require : createRequire(import.meta.url);
  const here = typeof __dirname === 'string' ? __dirname : dirname(fileURLToPath(import.meta.url));
  for (const candidate of [join(here, 'agent-native.node'), join(here, '../native/build/agent-native.node')]) {
    try {
      loaded = load(candidate) as AgentNative;
      return loaded;
    } catch {
      // try the next place
    }
  }
  process.stderr.write('sprite-agent: native addon agent-native.node not found\n');
  loaded = null;
  return null;
}
