import type { IncomingMessage, ServerResponse } from 'node:http';
import { parseDuration } from '@sprites/protocol';
import { finishUnreadBody, readLimited, sendJson } from '../http-json.js';
import { signalNumber } from '../sessions/index.js';
import { MAX_DEFINITION_BYTES, ServiceError } from './definition.js';
import { tailLines } from './logs.js';
import { DEFAULT_STOP_TIMEOUT_MS, type ServiceEvent, type Supervisor } from './supervisor.js';

/** How long create/start/restart follow the service's output when `duration` is absent. */
const DEFAULT_FOLLOW_MS = 5000;
const MAX_BODY = MAX_DEFINITION_BYTES;
/** Lines longer than this are split over several events (clients read ≤ 64 KiB lines). */
const MAX_EVENT_DATA = 16 * 1024;

async function readJson(req: IncomingMessage): Promise<unknown> {
  const { text, tooLarge } = await readLimited(req, MAX_BODY);
  if (tooLarge)
    throw new ServiceError(
      413,
      'payload_too_large',
      `the body is larger than ${MAX_BODY} bytes; a service definition is small`,
    );
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    throw new ServiceError(400, 'invalid_json', 'the body is not valid JSON');
  }
}

function duration(q: URLSearchParams, name: string, fallback: number): number {
  const raw = q.get(name);
  if (raw === null || raw === '') return fallback;
  const ms = parseDuration(raw);
  if (ms === null || ms < 0)
    throw new ServiceError(400, 'validation_failed', `${name} must be a duration such as 5s, 1m30s or 250ms (or 0)`);
  return ms;
}

/** Events as NDJSON lines, long lines split so no line passes the clients' 64 KiB limit. */
function writeEvent(res: ServerResponse, e: ServiceEvent): void {
  if (e.data !== undefined && e.data.length > MAX_EVENT_DATA) {
    for (let i = 0; i < e.data.length; i += MAX_EVENT_DATA)
      res.write(`${JSON.stringify({ ...e, data: e.data.slice(i, i + MAX_EVENT_DATA) })}\n`);
    return;
  }
  res.write(`${JSON.stringify(e)}\n`);
}

/**
 * Runs `action` while following the service: events that happen meanwhile are streamed,
 * then `followMs` more of them, then `complete`. A refusal before anything happened is a
 * plain JSON error instead.
 */
async function streamed(
  res: ServerResponse,
  sup: Supervisor,
  name: string,
  followMs: number,
  action: () => Promise<void> | void,
  first: ServiceEvent[] = [],
): Promise<void> {
  const early: ServiceEvent[] = [...first];
  let live = false;
  const unsubscribe = sup.subscribe(name, (e) => (live ? writeEvent(res, e) : early.push(e)));
  try {
    await action();
  } catch (e) {
    unsubscribe();
    throw e;
  }
  res.writeHead(200, { 'content-type': 'application/x-ndjson', 'cache-control': 'no-store' });
  for (const e of early) writeEvent(res, e);
  live = true;
  let timer: NodeJS.Timeout | undefined;
  await new Promise<void>((resolve) => {
    res.once('close', resolve);
    timer = setTimeout(resolve, followMs);
  });
  clearTimeout(timer);
  unsubscribe();
  if (!res.destroyed) {
    writeEvent(res, { type: 'complete', timestamp: Date.now(), log_files: sup.has(name) ? sup.logFiles(name) : {} });
    res.end();
  }
}

/** Tagged log lines back into events: `<time> [stdout] text`. */
function eventOfLine(line: string): ServiceEvent {
  const m = /^(\S+) \[(stdout|stderr|service)\] (.*)$/.exec(line);
  const time = m ? Date.parse(m[1]!) : NaN;
  const type = m?.[2] === 'stderr' ? 'stderr' : 'stdout';
  return {
    type,
    data: m ? (m[2] === 'service' ? `[service] ${m[3]}` : m[3]!) : line,
    timestamp: Number.isNaN(time) ? Date.now() : time,
  };
}

/** Which service and action a services path names (the protocol's `services…` routes). */
export interface ServicesTarget {
  service?: string;
  action?: string;
}

/** /v1/sprites/{name}/services…: the services API (PROTOCOL.md §11) on the supervisor. */
export function handleServices(
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  sup: Supervisor,
  target: ServicesTarget,
): void {
  const name = target.service;
  const action = target.action;
  const q = url.searchParams;
  const run = async (): Promise<void> => {
    const method = req.method ?? 'GET';
    if (name === undefined) {
      if (method !== 'GET')
        throw new ServiceError(405, 'method_not_allowed', 'services takes GET; create with PUT services/{name}');
      return sendJson(res, 200, sup.list());
    }
    if (name === 'signal' && action === undefined && method === 'POST') {
      const body = (await readJson(req)) as { name?: unknown; signal?: unknown } | undefined;
      if (!body || typeof body.name !== 'string' || typeof body.signal !== 'string')
        throw new ServiceError(400, 'validation_failed', 'the body is {"name":"<service>","signal":"HUP"}');
      const signal = signalNumber(body.signal);
      if (signal === null)
        throw new ServiceError(
          400,
          'validation_failed',
          `unknown signal "${body.signal}"; use a name such as TERM, HUP, INT or KILL`,
        );
      sup.signal(body.name, signal);
      res.writeHead(204).end();
      return;
    }
    if (action === undefined) {
      if (method === 'GET') return sendJson(res, 200, sup.get(name));
      if (method === 'DELETE') {
        await sup.remove(name);
        res.writeHead(204).end();
        return;
      }
      if (method === 'PUT') {
        const body = await readJson(req);
        const follow = duration(q, 'duration', DEFAULT_FOLLOW_MS);
        return streamed(res, sup, name, follow, () => sup.put(name, body));
      }
      throw new ServiceError(405, 'method_not_allowed', `services/${name} takes GET, PUT or DELETE`);
    }
    if (action === 'logs') {
      if (method !== 'GET') throw new ServiceError(405, 'method_not_allowed', 'logs takes GET');
      const lines = q.get('lines') === null ? 100 : Number(q.get('lines'));
      if (!Number.isInteger(lines) || lines < 0)
        throw new ServiceError(400, 'validation_failed', 'lines must be a whole number');
      const follow = duration(q, 'duration', 0);
      const past = tailLines(sup.logPath(name), lines).map(eventOfLine);
      return streamed(res, sup, name, follow, () => undefined, past);
    }
    if (method !== 'POST') throw new ServiceError(405, 'method_not_allowed', `services/${name}/${action} takes POST`);
    if (!sup.has(name)) throw new ServiceError(404, 'service_not_found', `service not found: ${name}`);
    if (action === 'start')
      return streamed(res, sup, name, duration(q, 'duration', DEFAULT_FOLLOW_MS), () => sup.start(name));
    if (action === 'restart')
      return streamed(res, sup, name, duration(q, 'duration', DEFAULT_FOLLOW_MS), () =>
        sup.restart(name, DEFAULT_STOP_TIMEOUT_MS),
      );
    const grace = duration(q, 'timeout', DEFAULT_STOP_TIMEOUT_MS);
    return streamed(res, sup, name, 0, () => sup.stop(name, grace));
  };
  run().catch((e: unknown) => {
    if (res.headersSent) return void res.end();
    finishUnreadBody(req, res);
    if (e instanceof ServiceError) return sendJson(res, e.status, { error: e.code, message: e.message });
    sendJson(res, 500, { error: 'internal_error', message: e instanceof Error ? e.message : String(e) });
  });
}
