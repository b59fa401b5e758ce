/** The OCI runtime seam: crun and runc behind one interface, driven through their CLIs. */

export interface RuntimeInfo {
  name: string;
  version: string;
  userNamespaces: boolean;
  freezer: boolean;
}

export type ContainerStatus = 'creating' | 'created' | 'running' | 'paused' | 'stopped';

export interface ContainerState {
  id: string;
  status: ContainerStatus;
  /** Host pid of the container's init (0 when stopped). */
  pid: number;
}

export interface StartOptions {
  /** Unix socket path the daemon bound for the agent; passed in as fd 3. */
  agentSocket: string;
  /**
   * File receiving the container's stdout and stderr (the agent's own log), bounded: the
   * first MiB and the last 64 KiB of each boot; the previous boot's is kept beside it (.1).
   */
  consoleLog: string;
}

export interface RuntimeDriver {
  info(): RuntimeInfo;
  /** Create and start the container of `bundleDir` detached; resolves once init runs. */
  start(id: string, bundleDir: string, opts: StartOptions): Promise<void>;
  state(id: string): Promise<ContainerState | null>;
  /** Run a command inside the running container (host-side, for diagnostics and tests). */
  exec(
    id: string,
    argv: string[],
    opts?: { input?: string; timeoutMs?: number },
  ): Promise<{ code: number; stdout: string; stderr: string }>;
  freeze(id: string): Promise<void>;
  thaw(id: string): Promise<void>;
  kill(id: string, signal: NodeJS.Signals): Promise<void>;
  /** Stop (if needed) and remove the container. Idempotent. */
  delete(id: string): Promise<void>;
  /** Ids of all containers whose id starts with `prefix`. */
  list(prefix: string): Promise<string[]>;
  /** State of every container whose id starts with `prefix`, in one call (startup adoption of thousands). */
  states(prefix: string): Promise<Map<string, ContainerState>>;
}

export class UnknownDriverError extends Error {
  constructor(name: string, known: string[]) {
    super(`unknown runtime "${name}"; choose one of: ${known.join(', ')}`);
    this.name = 'UnknownDriverError';
  }
}
