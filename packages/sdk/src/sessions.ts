import type { CallOptions } from './abort.js';
import { spritePath } from '@sprites/protocol';
import type { SpriteContext } from './platform.js';
import { NDJSONStream } from './streams/ndjson.js';
import type { StreamKinds } from './platform.js';
import { killEventFromWire, sessionFromWire, type Session, type SessionKillEvent } from './types.js';

/** Progress of a session kill: `signal`, then `exited` or `timeout` + `killed`, then `complete`. */
export class SessionKillStream extends NDJSONStream<SessionKillEvent> {}

export async function listSessions<K extends StreamKinds>(
  ctx: SpriteContext<K>,
  opts: CallOptions = {},
): Promise<Session[]> {
  const body = await ctx.transport.json<{ sessions?: unknown }>('GET', spritePath('exec', { name: ctx.name }), opts);
  const list = Array.isArray(body.sessions) ? body.sessions : [];
  return list.filter((s): s is Record<string, unknown> => !!s && typeof s === 'object').map(sessionFromWire);
}

/**
 * Signals a session's process and streams what happened. `grace` (e.g. `"5s"`; the server's
 * default is 10 s) is how long to wait for the exit before SIGKILL; `"0s"` only signals. A
 * session that already ended (410) yields one `exited` event.
 */
export async function killSession<K extends StreamKinds>(
  ctx: SpriteContext<K>,
  id: string,
  signal = 'SIGTERM',
  grace?: string,
  opts: CallOptions = {},
): Promise<SessionKillStream> {
  const { response, deadline } = await ctx.transport.send(
    'POST',
    spritePath('execKill', { name: ctx.name, session: id }),
    {
      query: { signal, timeout: grace },
      expect: [200, 410],
      streaming: true,
      ...opts,
    },
  );
  if (response.status === 410) {
    await response.body?.cancel().catch(() => undefined);
    const gone = new Response(`${JSON.stringify({ type: 'exited', message: `session ${id} had already ended` })}\n`);
    return new SessionKillStream(gone, deadline, killEventFromWire);
  }
  return new SessionKillStream(response, deadline, killEventFromWire);
}
