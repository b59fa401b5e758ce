import type { CallOptions } from './abort.js';
import { spritePath, type ServiceAction } from '@sprites/protocol';
import { readText } from './http.js';
import type { SpriteContext, StreamKinds } from './platform.js';
import { NDJSONStream } from './streams/ndjson.js';
import { wireText } from './types.js';

/** What to run as a service. */
export interface ServiceRequest {
  cmd: string;
  args?: string[];
  /** Added to the sprite's environment. */
  env?: Record<string, string>;
  dir?: string;
  /** Services started before this one. */
  needs?: string[];
  /** The port the sprite URL routes to (one service per sprite). */
  httpPort?: number;
}

/** A service's definition. */
export interface Service {
  name: string;
  cmd: string;
  args: string[];
  env?: Record<string, string>;
  dir?: string;
  needs: string[];
  httpPort?: number;
}

/** Where a service stands. */
export interface ServiceState {
  name: string;
  status: 'stopped' | 'starting' | 'running' | 'stopping' | 'failed' | (string & {});
  pid?: number;
  startedAt?: Date;
  error?: string;
  restartCount?: number;
  nextRestartAt?: Date;
}

export interface ServiceWithState extends Service {
  state?: ServiceState;
}

/** One line of a service stream. */
export interface ServiceLogEvent {
  type: 'started' | 'stdout' | 'stderr' | 'exit' | 'error' | 'stopping' | 'stopped' | 'complete' | (string & {});
  data?: string;
  exitCode?: number;
  /** Unix milliseconds. */
  timestamp: number;
  logFiles?: Record<string, string>;
}

/** Events of a service: what it printed, starts, exits, stops; ends with `complete`. */
export class ServiceLogStream extends NDJSONStream<ServiceLogEvent> {}

function date(v: unknown): Date | undefined {
  return typeof v === 'string' && v !== '' ? new Date(v) : undefined;
}

function serviceFromWire(w: Record<string, unknown>): ServiceWithState {
  const s = (w.state ?? undefined) as Record<string, unknown> | undefined;
  const out: ServiceWithState = {
    name: wireText(w.name),
    cmd: wireText(w.cmd),
    args: Array.isArray(w.args) ? w.args.map(String) : [],
    needs: Array.isArray(w.needs) ? w.needs.map(String) : [],
  };
  if (w.env && typeof w.env === 'object' && Object.keys(w.env).length > 0) out.env = w.env as Record<string, string>;
  if (typeof w.dir === 'string') out.dir = w.dir;
  if (typeof w.http_port === 'number') out.httpPort = w.http_port;
  if (s) {
    const state: ServiceState = { name: wireText(s.name, out.name), status: wireText(s.status) };
    if (typeof s.pid === 'number') state.pid = s.pid;
    const started = date(s.started_at);
    if (started) state.startedAt = started;
    if (typeof s.error === 'string') state.error = s.error;
    if (typeof s.restart_count === 'number') state.restartCount = s.restart_count;
    const next = date(s.next_restart_at);
    if (next) state.nextRestartAt = next;
    out.state = state;
  }
  return out;
}

function eventFromWire(w: Record<string, unknown>): ServiceLogEvent {
  const e: ServiceLogEvent = {
    type: wireText(w.type),
    timestamp: typeof w.timestamp === 'number' ? w.timestamp : Date.now(),
  };
  if (typeof w.data === 'string') e.data = w.data;
  if (typeof w.exit_code === 'number') e.exitCode = w.exit_code;
  if (w.log_files && typeof w.log_files === 'object') e.logFiles = w.log_files as Record<string, string>;
  return e;
}

/** The services path of `name`: the list, one service, or one of its actions. */
function path(name: string, service?: string, action?: ServiceAction): string {
  if (service === undefined) return spritePath('services', { name });
  if (action === undefined) return spritePath('service', { name, service });
  return spritePath('serviceAction', { name, service, action });
}

export async function listServices<K extends StreamKinds>(
  ctx: SpriteContext<K>,
  opts: CallOptions = {},
): Promise<ServiceWithState[]> {
  const list = await ctx.transport.json<unknown>('GET', path(ctx.name), opts);
  return Array.isArray(list)
    ? list.filter((x): x is Record<string, unknown> => !!x && typeof x === 'object').map(serviceFromWire)
    : [];
}

export async function getService<K extends StreamKinds>(
  ctx: SpriteContext<K>,
  svc: string,
  opts: CallOptions = {},
): Promise<ServiceWithState> {
  return serviceFromWire(await ctx.transport.json<Record<string, unknown>>('GET', path(ctx.name, svc), opts));
}

async function stream<K extends StreamKinds>(
  ctx: SpriteContext<K>,
  method: string,
  p: string,
  query: Record<string, string | undefined>,
  json: unknown,
  opts: CallOptions,
): Promise<ServiceLogStream> {
  const { response, deadline } = await ctx.transport.send(method, p, { query, json, streaming: true, ...opts });
  return new ServiceLogStream(response, deadline, eventFromWire);
}

/** Creates or replaces a service and starts it; follows its output for `duration` (e.g. "5s", "0"). */
export function createService<K extends StreamKinds>(
  ctx: SpriteContext<K>,
  svc: string,
  req: ServiceRequest,
  duration?: string,
  opts: CallOptions = {},
): Promise<ServiceLogStream> {
  const body: Record<string, unknown> = { cmd: req.cmd, args: req.args ?? [], needs: req.needs ?? [] };
  if (req.env) body.env = req.env;
  if (req.dir) body.dir = req.dir;
  if (req.httpPort !== undefined) body.http_port = req.httpPort;
  return stream(ctx, 'PUT', path(ctx.name, svc), { duration }, body, opts);
}

export function startService<K extends StreamKinds>(
  ctx: SpriteContext<K>,
  svc: string,
  duration?: string,
  opts: CallOptions = {},
): Promise<ServiceLogStream> {
  return stream(ctx, 'POST', path(ctx.name, svc, 'start'), { duration }, undefined, opts);
}

/** Stops a service (SIGTERM, SIGKILL after `timeout`, e.g. "10s"); the stop is sticky. */
export function stopService<K extends StreamKinds>(
  ctx: SpriteContext<K>,
  svc: string,
  timeout?: string,
  opts: CallOptions = {},
): Promise<ServiceLogStream> {
  return stream(ctx, 'POST', path(ctx.name, svc, 'stop'), { timeout }, undefined, opts);
}

export function restartService<K extends StreamKinds>(
  ctx: SpriteContext<K>,
  svc: string,
  duration?: string,
  opts: CallOptions = {},
): Promise<ServiceLogStream> {
  return stream(ctx, 'POST', path(ctx.name, svc, 'restart'), { duration }, undefined, opts);
}

/** The last `lines` of a service's log, then `duration` of live output. */
export function getServiceLogs<K extends StreamKinds>(
  ctx: SpriteContext<K>,
  svc: string,
  options: { lines?: number; duration?: string } & CallOptions = {},
): Promise<ServiceLogStream> {
  const { lines, duration, ...call } = options;
  return stream(
    ctx,
    'GET',
    path(ctx.name, svc, 'logs'),
    { lines: lines === undefined ? undefined : String(lines), duration },
    undefined,
    call,
  );
}

export async function deleteService<K extends StreamKinds>(
  ctx: SpriteContext<K>,
  svc: string,
  opts: CallOptions = {},
): Promise<void> {
  await readText(await ctx.transport.send('DELETE', path(ctx.name, svc), { expect: [204], ...opts }));
}

export async function signalService<K extends StreamKinds>(
  ctx: SpriteContext<K>,
  svc: string,
  signal: string,
  opts: CallOptions = {},
): Promise<void> {
  await readText(
    await ctx.transport.send('POST', path(ctx.name, 'signal'), { json: { name: svc, signal }, expect: [204], ...opts }),
  );
}
