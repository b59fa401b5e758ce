import { commandEnvironment, isExecutable, resolveCommand, SPRITE_USER } from '../exec/environment.js';
import { spawnPipes, type ProcessHandle } from '../sessions/index.js';
import {
  checkSet,
  definitionFrom,
  DefinitionStore,
  MAX_SERVICES,
  ServiceError,
  startOrder,
  type RefusedDefinition,
  type ServiceDefinition,
} from './definition.js';
import { ServiceLog } from './logs.js';

export type ServiceStatus = 'stopped' | 'starting' | 'running' | 'stopping' | 'failed';

/** One line of a service stream (PROTOCOL.md §11.1 ServiceLogEvent). */
export interface ServiceEvent {
  type: 'started' | 'stdout' | 'stderr' | 'exit' | 'error' | 'stopping' | 'stopped' | 'complete';
  data?: string;
  exit_code?: number;
  timestamp: number;
  log_files?: Record<string, string>;
}

/** A crashed service waits 1 s, 2 s, 4 s, … up to this long before it is started again. */
export const MAX_BACKOFF_MS = 30_000;
/** A service that ran this long before it stopped starts its backoff from 1 s again. */
const STABLE_MS = 60_000;
/** Grace period of a stop before SIGKILL, when the request names none. */
export const DEFAULT_STOP_TIMEOUT_MS = 10_000;

interface Runtime {
  def: ServiceDefinition;
  status: ServiceStatus;
  proc: ProcessHandle | null;
  startedAt: Date | null;
  error: string | null;
  restartCount: number;
  /** Crashes in a row, for the backoff; reset when a run was stable. */
  consecutive: number;
  nextRestartAt: Date | null;
  timer: NodeJS.Timeout | null;
  stopping: boolean;
  exited: Promise<void>;
  log: ServiceLog;
}

export interface SupervisorOptions {
  stateDir: string;
  logDir: string;
  /** Where users see the logs (a symlinked path), for `log_files`. */
  shownLogDir?: string;
  environment: () => Record<string, string>;
  /** Told about each stored definition that was not loaded, and why (default: a stderr line). */
  onRefused?: (r: RefusedDefinition) => void;
}

function logRefused(r: RefusedDefinition): void {
  process.stderr.write(`${JSON.stringify({ event: 'service.definition_refused', file: r.file, reason: r.reason })}\n`);
}

/**
 * Keeps the sprite's services running: starts them at boot in `needs` order, restarts a
 * crashed one with exponential backoff, makes stops sticky, and writes every line of output
 * to the service's log. Definitions live on the sprite's disk.
 */
export class Supervisor {
  private readonly store: DefinitionStore;
  private readonly services = new Map<string, Runtime>();
  /** By service name, so a stream can listen before its service exists (create). */
  private readonly listeners = new Map<string, Set<(e: ServiceEvent) => void>>();

  constructor(private readonly opts: SupervisorOptions) {
    this.store = new DefinitionStore(opts.stateDir);
  }

  /** Loads the definitions and starts every service that was not stopped. */
  boot(): void {
    const defs = this.store.load(this.opts.onRefused ?? logRefused);
    for (const def of defs.values()) this.services.set(def.name, this.runtime(def));
    for (const def of startOrder(defs)) if (!def.stopped) this.spawn(this.services.get(def.name)!);
  }

  list(): Record<string, unknown>[] {
    return [...this.services.values()].sort((a, b) => a.def.name.localeCompare(b.def.name)).map((r) => this.view(r));
  }

  get(name: string): Record<string, unknown> {
    return this.view(this.must(name));
  }

  logFiles(name: string): Record<string, string> {
    const path = this.opts.shownLogDir ? `${this.opts.shownLogDir}/${name}.log` : this.must(name).log.path;
    return { stdout: path, stderr: path, combined: path };
  }

  logPath(name: string): string {
    return this.must(name).log.path;
  }

  /** The service that owns the sprite URL, if one declares an `http_port`. */
  httpService(): { name: string; port: number; running: boolean } | null {
    for (const r of this.services.values()) {
      if (r.def.http_port !== null) return { name: r.def.name, port: r.def.http_port, running: r.status === 'running' };
    }
    return null;
  }

  /** Creates or replaces a service and starts it (and what it needs). */
  async put(name: string, body: unknown): Promise<void> {
    const def = definitionFrom(name, body);
    if (!this.services.has(name) && this.services.size >= MAX_SERVICES)
      throw new ServiceError(409, 'conflict', `a sprite holds at most ${MAX_SERVICES} services; delete one first`);
    checkSet(new Map([...this.services].map(([k, r]) => [k, r.def])), def);
    const existing = this.services.get(name);
    if (existing) {
      await this.halt(existing, DEFAULT_STOP_TIMEOUT_MS);
      existing.def = def;
      existing.restartCount = 0;
      existing.consecutive = 0;
      existing.error = null;
    } else this.services.set(name, this.runtime(def));
    this.store.save(def);
    this.start(name);
  }

  /** Starts a service (and, first, what it needs); clears a sticky stop. */
  start(name: string, starting = new Set<string>()): void {
    const r = this.must(name);
    // `starting` guards the walk: a loaded set has no cycles, but a walk must never loop.
    starting.add(name);
    for (const need of r.def.needs) {
      const dep = this.services.get(need);
      if (dep && !starting.has(need) && dep.status !== 'running' && dep.status !== 'starting')
        this.start(need, starting);
    }
    if (r.def.stopped) {
      r.def.stopped = false;
      this.store.save(r.def);
    }
    if (r.status === 'running' || r.status === 'starting') return;
    this.clearTimer(r);
    r.consecutive = 0;
    this.spawn(r);
  }

  /** Stops a running service: SIGTERM, then SIGKILL after `timeoutMs`. Sticky. */
  async stop(name: string, timeoutMs: number): Promise<void> {
    const r = this.must(name);
    if (r.status !== 'running' && r.status !== 'starting' && r.status !== 'failed')
      throw new ServiceError(409, 'conflict', `service ${name} is not running`);
    r.def.stopped = true;
    this.store.save(r.def);
    await this.halt(r, timeoutMs);
  }

  async restart(name: string, timeoutMs: number): Promise<void> {
    const r = this.must(name);
    await this.halt(r, timeoutMs);
    this.start(name);
  }

  signal(name: string, signal: number): void {
    const r = this.must(name);
    if (!r.proc || r.status !== 'running') throw new ServiceError(409, 'conflict', `service ${name} is not running`);
    r.proc.signal(signal);
  }

  /** Deletes a service (its log stays); refused while another service needs it. */
  async remove(name: string): Promise<void> {
    const r = this.must(name);
    const dependant = [...this.services.values()].find((o) => o.def.needs.includes(name));
    if (dependant)
      throw new ServiceError(409, 'conflict', `service ${dependant.def.name} needs ${name}; delete or change it first`);
    await this.halt(r, DEFAULT_STOP_TIMEOUT_MS);
    this.services.delete(name);
    this.store.remove(name);
  }

  /** Follows a service's events (it need not exist yet); returns the unsubscribe function. */
  subscribe(name: string, listener: (e: ServiceEvent) => void): () => void {
    const set = this.listeners.get(name) ?? new Set();
    set.add(listener);
    this.listeners.set(name, set);
    return () => {
      set.delete(listener);
      if (set.size === 0) this.listeners.delete(name);
    };
  }

  has(name: string): boolean {
    return this.services.has(name);
  }

  private must(name: string): Runtime {
    const r = this.services.get(name);
    if (!r) throw new ServiceError(404, 'service_not_found', `service not found: ${name}`);
    return r;
  }

  private runtime(def: ServiceDefinition): Runtime {
    return {
      def,
      status: 'stopped',
      proc: null,
      startedAt: null,
      error: null,
      restartCount: 0,
      consecutive: 0,
      nextRestartAt: null,
      timer: null,
      stopping: false,
      exited: Promise.resolve(),
      log: new ServiceLog(this.opts.logDir, def.name),
    };
  }

  private view(r: Runtime): Record<string, unknown> {
    const state: Record<string, unknown> = { name: r.def.name, status: r.status, restart_count: r.restartCount };
    if (r.proc && (r.status === 'running' || r.status === 'stopping')) state.pid = r.proc.pid;
    if (r.startedAt) state.started_at = r.startedAt.toISOString();
    if (r.error) state.error = r.error;
    if (r.nextRestartAt) state.next_restart_at = r.nextRestartAt.toISOString();
    const { stopped: _stopped, ...def } = r.def;
    return { ...def, state };
  }

  private emit(r: Runtime, e: Omit<ServiceEvent, 'timestamp'>): void {
    const event = { ...e, timestamp: Date.now() };
    for (const l of this.listeners.get(r.def.name) ?? []) l(event);
  }

  private clearTimer(r: Runtime): void {
    if (r.timer) clearTimeout(r.timer);
    r.timer = null;
    r.nextRestartAt = null;
  }

  private spawn(r: Runtime): void {
    this.clearTimer(r);
    r.status = 'starting';
    r.stopping = false;
    const env = commandEnvironment(this.opts.environment(), r.def.env);
    const file = resolveCommand(r.def.cmd, env.PATH ?? '', isExecutable);
    if (!file) {
      r.error = `${r.def.cmd}: command not found`;
      r.log.note(r.error);
      this.emit(r, { type: 'error', data: r.error });
      this.crashed(r, 127, 0);
      return;
    }
    const proc = spawnPipes({
      file,
      argv: [r.def.cmd, ...r.def.args],
      cwd: r.def.dir ?? SPRITE_USER.home,
      env,
      uid: SPRITE_USER.uid,
      gid: SPRITE_USER.gid,
      stdin: false,
      cols: 80,
      rows: 24,
    });
    const started = Date.now();
    r.proc = proc;
    r.startedAt = new Date(started);
    r.status = 'running';
    r.error = null;
    r.log.note(`started ${[r.def.cmd, ...r.def.args].join(' ')} (pid ${proc.pid})`);
    this.emit(r, { type: 'started', data: `pid ${proc.pid}` });
    let resolveExit!: () => void;
    r.exited = new Promise((res) => (resolveExit = res));
    proc.onOutput((stream, data) => {
      const name = stream === 1 ? 'stdout' : 'stderr';
      for (const line of r.log.output(name, data)) this.emit(r, { type: name, data: line });
    });
    proc.onExit((code) => {
      r.log.flush();
      r.log.note(`exited with code ${code}`);
      this.emit(r, { type: 'exit', exit_code: code });
      r.proc = null;
      if (r.stopping) {
        r.status = 'stopped';
        r.log.note('stopped');
        this.emit(r, { type: 'stopped' });
      } else this.crashed(r, code, Date.now() - started);
      resolveExit();
    });
  }

  /** A run that ended without a stop: count it and start again after the backoff. */
  private crashed(r: Runtime, code: number, ranMs: number): void {
    r.proc = null;
    r.status = 'failed';
    r.error ??= `exited with code ${code}`;
    r.restartCount += 1;
    r.consecutive = ranMs >= STABLE_MS ? 1 : r.consecutive + 1;
    const delay = Math.min(MAX_BACKOFF_MS, 1000 * 2 ** (r.consecutive - 1));
    r.nextRestartAt = new Date(Date.now() + delay);
    r.timer = setTimeout(() => {
      r.timer = null;
      if (!r.def.stopped && this.services.get(r.def.name) === r) this.spawn(r);
    }, delay);
  }

  /** Ends the current run (if any) without touching the sticky flag. */
  private async halt(r: Runtime, timeoutMs: number): Promise<void> {
    this.clearTimer(r);
    if (!r.proc) {
      if (r.status === 'failed' || r.status === 'starting') {
        r.status = 'stopped';
        this.emit(r, { type: 'stopped' });
      }
      return;
    }
    r.stopping = true;
    r.status = 'stopping';
    r.log.note('stopping');
    this.emit(r, { type: 'stopping' });
    const proc = r.proc;
    proc.signal(15);
    const kill = setTimeout(() => proc.signal(9), timeoutMs);
    await r.exited;
    clearTimeout(kill);
  }
}
