import type { ServerResponse } from 'node:http';
import { parseDuration } from '@sprites/protocol';
import { signalNumber } from './process.js';
import type { SessionRegistry } from './registry.js';

function json(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/**
 * POST .../exec/{id}/kill?signal=&timeout= (PROTOCOL.md §5.10): signals the session's process
 * group and streams NDJSON events; after `timeout` without an exit it escalates to SIGKILL.
 * `timeout=0s` signals and reports without waiting. 410 for a session that already ended.
 */
export async function killSession(
  res: ServerResponse,
  registry: SessionRegistry,
  id: string,
  query: URLSearchParams,
): Promise<void> {
  const session = registry.get(id);
  if (!session) {
    if (registry.hasEnded(id))
      return json(res, 410, { error: 'session_ended', message: `session ${id} has already exited` });
    return json(res, 404, { error: 'session_not_found', message: `no session ${id} in this sprite` });
  }
  const signalName = query.get('signal') || 'TERM';
  const signal = signalNumber(signalName);
  if (signal === null)
    return json(res, 400, {
      error: 'bad_request',
      message: `unknown signal "${signalName}"; use a name such as TERM, INT, KILL or HUP`,
    });
  const timeoutMs = parseDuration(query.get('timeout') || '10s');
  if (timeoutMs === null)
    return json(res, 400, { error: 'bad_request', message: 'timeout must be a duration such as 0s, 5s or 1m' });

  res.writeHead(200, { 'content-type': 'application/x-ndjson' });
  const event = (e: Record<string, unknown>) => res.write(`${JSON.stringify(e)}\n`);
  const label = `SIG${signalName.toUpperCase().replace(/^SIG/, '')}`;
  event({
    type: 'signal',
    message: `sent ${label} to session ${id} (pid ${session.pid})`,
    signal: label,
    pid: session.pid,
  });
  session.signal(signal);
  if (timeoutMs > 0) {
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), timeoutMs)));
    const outcome = await Promise.race([session.whenEnded(), timedOut]);
    clearTimeout(timer);
    if (outcome === 'timeout') {
      event({ type: 'timeout', message: `session ${id} still running after ${timeoutMs} ms; sending SIGKILL` });
      session.signal(9);
      const code = await session.whenEnded();
      event({ type: 'killed', message: `session ${id} killed` });
      event({ type: 'complete', exit_code: code });
    } else {
      event({ type: 'exited', message: `session ${id} exited` });
      event({ type: 'complete', exit_code: outcome });
    }
  } else if (session.exitCode !== null) {
    event({ type: 'complete', exit_code: session.exitCode });
  }
  res.end();
}
