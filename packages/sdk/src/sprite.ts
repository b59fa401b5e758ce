import type { CallOptions } from './abort.js';
import * as checkpoints from './checkpoints.js';
import type { CheckpointStream, RestoreStream } from './checkpoints.js';
import type { ExecResult } from './errors.js';
import {
  execCommand,
  execFileCommand,
  execFileHTTPCommand,
  spawnCommand,
  type ExecOptions,
  type HTTPExecOptions,
  type SpawnOptions,
} from './exec/child.js';
import { Cmd, type CommandOptions } from './exec/cmd.js';
import { SpriteFilesystem } from './fs/filesystem.js';
import type { HttpTransport } from './http.js';
import type { PortMapping, Platform, SpriteContext, StreamKinds } from './platform.js';
import type { NodeStreamKinds } from './node/kinds.js';
import * as sessions from './sessions.js';
import * as services from './services.js';
import * as policies from './policy.js';
import type { NetworkPolicy } from './policy.js';
import type { ServiceLogStream, ServiceRequest, ServiceWithState } from './services.js';
import type { SessionKillStream } from './sessions.js';
import type {
  Checkpoint,
  ListCheckpointsOptions,
  OrganizationInfo,
  Session,
  SpriteConfig,
  SpriteInfo,
  UpdateSpriteOptions,
  URLSettings,
} from './types.js';

/** What a Sprite needs from its client (kept narrow so the two do not import each other). */
export interface SpriteOwner<K extends StreamKinds> {
  readonly transport: HttpTransport;
  readonly platform: Platform<K>;
  deleteSprite(name: string, options?: CallOptions): Promise<void>;
  upgradeSprite(name: string, options?: CallOptions): Promise<void>;
  /** @internal */
  updateSpriteInfo(name: string, options: UpdateSpriteOptions): Promise<SpriteInfo>;
  /** @internal */
  getSpriteInfo(name: string, options?: CallOptions): Promise<SpriteInfo>;
}

/**
 * A sprite: a handle by name (`client.sprite(name)` does no I/O) whose fields are filled
 * when it comes from `createSprite`, `getSprite` or a listing. Groups of methods: lifecycle,
 * commands, sessions, filesystem, checkpoints; services, proxying and policies slot in the
 * same way as their server features land.
 */
export class Sprite<K extends StreamKinds = NodeStreamKinds> implements SpriteContext<K> {
  /** The sprite's name (unique within its organization). */
  readonly name: string;
  /** The client this handle belongs to. */
  readonly client: SpriteOwner<K>;
  id = '';
  organizationName = '';
  /** `running`, `warm` or `cold`; empty on a handle that was never fetched. */
  status = '';
  config: SpriteConfig | undefined;
  environment: Record<string, string> | undefined;
  createdAt: Date | undefined;
  updatedAt: Date | undefined;
  bucketName: string | undefined;
  primaryRegion: string | undefined;
  url: string | undefined;
  urlSettings: URLSettings | undefined;
  labels: string[] = [];
  lastRunningAt: Date | undefined;
  lastWarmingAt: Date | undefined;
  private org: OrganizationInfo | undefined;

  /** @internal Use `client.sprite(name)`. */
  constructor(name: string, client: SpriteOwner<K>, info?: SpriteInfo, org?: OrganizationInfo) {
    this.name = name;
    this.client = client;
    this.org = org;
    if (info) this.assign(info);
  }

  /** @internal */
  get transport(): HttpTransport {
    return this.client.transport;
  }

  /** @internal */
  get platform(): Platform<K> {
    return this.client.platform;
  }

  /** The organization this handle was made for (client-side metadata), if any. */
  get organization(): OrganizationInfo | undefined {
    return this.org ?? (this.organizationName ? { name: this.organizationName } : undefined);
  }

  /** @internal Copies fetched fields onto the handle. */
  assign(info: SpriteInfo): this {
    this.id = info.id;
    this.organizationName = info.organization;
    this.status = info.status;
    this.config = info.config;
    this.environment = info.environment;
    this.createdAt = info.createdAt;
    this.updatedAt = info.updatedAt;
    this.bucketName = info.bucketName;
    this.primaryRegion = info.primaryRegion;
    this.url = info.url;
    this.urlSettings = info.urlSettings;
    this.labels = info.labels ?? [];
    this.lastRunningAt = info.lastRunningAt;
    this.lastWarmingAt = info.lastWarmingAt;
    return this;
  }

  // ---- lifecycle ----------------------------------------------------------------------

  /** Fetches the sprite's current fields into this handle. */
  async refresh(options: CallOptions = {}): Promise<this> {
    return this.assign(await this.client.getSpriteInfo(this.name, options));
  }

  /** Deletes the sprite, its disk and its checkpoints. */
  delete(options: CallOptions = {}): Promise<void> {
    return this.client.deleteSprite(this.name, options);
  }

  /** The same as `delete()`. */
  destroy(options: CallOptions = {}): Promise<void> {
    return this.delete(options);
  }

  /** Moves the sprite onto the platform version the server runs now (restarting it). */
  upgrade(options: CallOptions = {}): Promise<void> {
    return this.client.upgradeSprite(this.name, options);
  }

  /** Changes labels and/or URL settings; the handle is refreshed from the answer. */
  async update(options: UpdateSpriteOptions): Promise<this> {
    return this.assign(await this.client.updateSpriteInfo(this.name, options));
  }

  /** Who may open the sprite's URL. */
  async updateURLSettings(settings: URLSettings, options: CallOptions = {}): Promise<void> {
    await this.update({ urlSettings: settings, ...options });
  }

  // ---- commands -----------------------------------------------------------------------

  /**
   * A command to run (Go's `Command`): nothing is sent until `start()`, `run()`, `output()`
   * or `combinedOutput()`. It has no stdin unless you take `cmd.stdin` or pass `stdin`.
   */
  command(name: string, args: readonly string[] = [], options: CommandOptions = {}): Cmd<K> {
    return new Cmd(this, { argv: [name, ...args] }, options);
  }

  /** Starts a command at once with a stdin pipe (the official JS SDK's `spawn`). */
  spawn(command: string, args: readonly string[] = [], options: SpawnOptions = {}): Cmd<K> {
    return spawnCommand(this, command, args, options);
  }

  /** Runs a shell command line (`/bin/sh -c`) and collects its output; non-zero exit rejects with ExecError. */
  exec(command: string, options?: ExecOptions & { encoding?: 'utf8' }): Promise<ExecResult<string>>;
  exec(command: string, options: ExecOptions & { encoding: 'buffer' | null }): Promise<ExecResult<K['bytes']>>;
  exec(command: string, options: ExecOptions = {}): Promise<ExecResult<string | K['bytes']>> {
    return execCommand(this, command, options);
  }

  /** Runs a program with arguments (no shell) and collects its output; non-zero exit rejects with ExecError. */
  execFile(
    file: string,
    args?: readonly string[],
    options?: ExecOptions & { encoding?: 'utf8' },
  ): Promise<ExecResult<string>>;
  execFile(
    file: string,
    args: readonly string[],
    options: ExecOptions & { encoding: 'buffer' | null },
  ): Promise<ExecResult<K['bytes']>>;
  execFile(
    file: string,
    args: readonly string[] = [],
    options: ExecOptions = {},
  ): Promise<ExecResult<string | K['bytes']>> {
    return execFileCommand(this, file, args, options);
  }

  /** `execFile` over one HTTP request (no WebSocket; no TTY). */
  execFileHTTP(
    file: string,
    args?: readonly string[],
    options?: HTTPExecOptions & { encoding?: 'utf8' },
  ): Promise<ExecResult<string>>;
  execFileHTTP(
    file: string,
    args: readonly string[],
    options: HTTPExecOptions & { encoding: 'buffer' | null },
  ): Promise<ExecResult<K['bytes']>>;
  execFileHTTP(
    file: string,
    args: readonly string[] = [],
    options: HTTPExecOptions = {},
  ): Promise<ExecResult<string | K['bytes']>> {
    return execFileHTTPCommand(this, file, args, options);
  }

  /** Starts a detachable TTY session (attach to it later by its `sessionId`). */
  createSession(command: string, args: readonly string[] = [], options: SpawnOptions = {}): Cmd<K> {
    return this.spawn(command, args, { ...options, tty: true, detachable: true });
  }

  // ---- sessions -----------------------------------------------------------------------

  /** Sessions on the sprite: running commands that can be attached to. */
  listSessions(options: CallOptions = {}): Promise<Session[]> {
    return sessions.listSessions(this, options);
  }

  /**
   * Attaches to a session: its recent output is replayed first, then live output follows.
   * Starts at once, like `spawn()`; the session's TTY mode is taken from the server.
   */
  attachSession(sessionId: string, options: Omit<SpawnOptions, 'sessionId'> = {}): Cmd<K> {
    return spawnCommand(this, '', [], { ...options, sessionId });
  }

  /** Signals a session's process (default SIGTERM), escalating to SIGKILL after `grace` (server default 10 s). */
  killSession(
    sessionId: string,
    signal = 'SIGTERM',
    grace?: string,
    options: CallOptions = {},
  ): Promise<SessionKillStream> {
    return sessions.killSession(this, sessionId, signal, grace, options);
  }

  // ---- filesystem ---------------------------------------------------------------------

  /** The sprite's files, `node:fs/promises`-shaped; relative paths resolve against `workingDir`. */
  filesystem(workingDir = '/'): SpriteFilesystem<K> {
    return new SpriteFilesystem(this, workingDir);
  }

  /** Go's `FilesystemAt(dir)`. */
  filesystemAt(workingDir: string): SpriteFilesystem<K> {
    return this.filesystem(workingDir);
  }

  // ---- services -----------------------------------------------------------------------

  /** Services with their state. */
  listServices(options: CallOptions = {}): Promise<ServiceWithState[]> {
    return services.listServices(this, options);
  }

  getService(name: string, options: CallOptions = {}): Promise<ServiceWithState> {
    return services.getService(this, name, options);
  }

  /** Creates or replaces a service and starts it, following its output for `duration` ("5s"; "0" returns at once). */
  createService(
    name: string,
    request: ServiceRequest,
    duration?: string,
    options: CallOptions = {},
  ): Promise<ServiceLogStream> {
    return services.createService(this, name, request, duration, options);
  }

  startService(name: string, duration?: string, options: CallOptions = {}): Promise<ServiceLogStream> {
    return services.startService(this, name, duration, options);
  }

  /** Stops a service: SIGTERM, then SIGKILL after `timeout` ("10s" by default). Stays stopped. */
  stopService(name: string, timeout?: string, options: CallOptions = {}): Promise<ServiceLogStream> {
    return services.stopService(this, name, timeout, options);
  }

  restartService(name: string, duration?: string, options: CallOptions = {}): Promise<ServiceLogStream> {
    return services.restartService(this, name, duration, options);
  }

  deleteService(name: string, options: CallOptions = {}): Promise<void> {
    return services.deleteService(this, name, options);
  }

  signalService(name: string, signal: string, options: CallOptions = {}): Promise<void> {
    return services.signalService(this, name, signal, options);
  }

  /** The last `lines` of a service's log, then `duration` of live output. */
  getServiceLogs(
    name: string,
    options: { lines?: number; duration?: string } & CallOptions = {},
  ): Promise<ServiceLogStream> {
    return services.getServiceLogs(this, name, options);
  }

  // ---- network policy -----------------------------------------------------------------

  /** The sprite's egress policy (`{ rules: [] }`: unrestricted). */
  getNetworkPolicy(options: CallOptions = {}): Promise<NetworkPolicy> {
    return policies.getNetworkPolicy(this, options);
  }

  /** Replaces the egress policy; an invalid one is refused (400) and the old one stays. */
  updateNetworkPolicy(policy: NetworkPolicy, options: CallOptions = {}): Promise<void> {
    return policies.updateNetworkPolicy(this, policy, options);
  }

  // ---- TCP proxy (Node, Bun, Deno) ----------------------------------------------------

  private tunnels(): NonNullable<Platform<K>['tunnels']> {
    const t = this.platform.tunnels;
    if (!t) throw new Error('TCP proxying needs local sockets: use the SDK on Node, Bun or Deno');
    return t;
  }

  /** A connection to `host:port` as seen from inside the sprite (`localhost` is the sprite's own). */
  proxySocket(addr: string, options: { signal?: AbortSignal } = {}): Promise<K['socket']> {
    return this.tunnels().socket(this, addr, options.signal);
  }

  /** Listens on 127.0.0.1:`localPort` (0 = any) and tunnels each connection to `remotePort` in the sprite. */
  async proxyPort(localPort: number, remotePort: number, remoteHost?: string): Promise<K['proxySession']> {
    const [session] = await this.tunnels().ports(this, [{ localPort, remotePort, remoteHost }]);
    return session;
  }

  /** Several forwards at once; if one fails, the others are closed. */
  proxyPorts(mappings: PortMapping[]): Promise<K['proxySession'][]> {
    return this.tunnels().ports(this, mappings);
  }

  // ---- checkpoints --------------------------------------------------------------------

  /** Checkpoints the sprite's disk; the stream ends with `complete` naming the new id. */
  createCheckpoint(comment?: string, options: CallOptions = {}): Promise<CheckpointStream> {
    return checkpoints.createCheckpoint(this, comment, options);
  }

  /** Checkpoints, newest first: a history filter id, or `{ history, includeAuto }`. */
  listCheckpoints(filter: string | ListCheckpointsOptions = {}): Promise<Checkpoint[]> {
    return checkpoints.listCheckpoints(this, filter);
  }

  getCheckpoint(id: string, options: CallOptions = {}): Promise<Checkpoint> {
    return checkpoints.getCheckpoint(this, id, options);
  }

  /** Replaces the disk with a checkpoint's and restarts the sprite (sessions end). */
  restoreCheckpoint(id: string, options: CallOptions = {}): Promise<RestoreStream> {
    return checkpoints.restoreCheckpoint(this, id, options);
  }

  /** Deletes a checkpoint (not the one the disk currently descends from: 409). */
  deleteCheckpoint(id: string, options: CallOptions = {}): Promise<void> {
    return checkpoints.deleteCheckpoint(this, id, options);
  }
}
