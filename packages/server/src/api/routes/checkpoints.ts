import {
  ErrorCode,
  routerPattern,
  SPRITE_VERSION,
  SPRITE_VERSION_HEADER,
  SpriteError,
  type SpriteRouteParams,
} from '@sprites/protocol';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { CheckpointRecord, SpriteRecord } from '../../registry/index.js';
import { hostFault } from '../../host/index.js';
import type { ApiDeps } from '../deps.js';
import { findSprite } from '../../access/index.js';

const MAX_COMMENT = 1000;
const CHECKPOINT_ID = /^(v\d{1,9}|auto-\d{1,16})$/;

/** The wire form of a checkpoint (PROTOCOL.md §12.1). */
function present(c: CheckpointRecord): Record<string, unknown> {
  return {
    id: c.id,
    create_time: c.createdAt,
    history: c.history,
    is_auto: c.isAuto,
    ...(c.comment !== null ? { comment: c.comment } : {}),
    ...(c.sourceId !== null ? { source_id: c.sourceId } : {}),
  };
}

/**
 * How long a progress stream holds its status line back. A checkpoint takes milliseconds, so
 * its failure (the pool full, a host command failing) still gets a real status and an
 * APIError body; a longer operation (a restore) shows its progress after this.
 */
export const PROGRESS_HEAD_DEFER_MS = 1000;

/**
 * An NDJSON progress stream (§11.3): `info` lines as the work goes, then `complete`. A
 * failure before the head went out is thrown (the error handler answers it); after, it is an
 * in-band `error` line (the status is already 200 by then).
 */
async function streamProgress(
  reply: FastifyReply,
  work: (info: (line: string) => void) => Promise<string>,
): Promise<void> {
  const raw = reply.raw;
  const held: string[] = [];
  let started = false;
  const begin = () => {
    if (started) return;
    started = true;
    reply.hijack();
    raw.writeHead(200, {
      'content-type': 'application/x-ndjson',
      'cache-control': 'no-cache',
      [SPRITE_VERSION_HEADER]: SPRITE_VERSION,
    });
    for (const text of held.splice(0)) raw.write(text);
  };
  const line = (msg: Record<string, unknown>) => {
    const text = `${JSON.stringify({ ...msg, time: new Date().toISOString() })}\n`;
    if (!started) held.push(text);
    else if (!raw.writableEnded) raw.write(text);
  };
  const timer = setTimeout(begin, PROGRESS_HEAD_DEFER_MS);
  try {
    const done = await work((data) => line({ type: 'info', data }));
    begin();
    line({ type: 'complete', data: done });
  } catch (e) {
    if (!started) throw e;
    line({ type: 'error', error: (hostFault(e) ?? (e instanceof Error ? e : new Error(String(e)))).message });
  } finally {
    clearTimeout(timer);
  }
  raw.end();
}

export function checkpointRoutes(app: FastifyInstance, deps: ApiDeps): void {
  const { registry, lifecycle } = deps;

  const lookup = (orgId: string, name: string): Promise<SpriteRecord> => findSprite(registry, orgId, name);

  /** A checkpoint of this sprite; another sprite's ids are simply not found. */
  const checkpointOf = async (sprite: SpriteRecord, id: string): Promise<CheckpointRecord> => {
    const found = CHECKPOINT_ID.test(id) ? await registry.checkpoints.get(sprite.id, id) : null;
    if (!found) throw new SpriteError(ErrorCode.NotFound, `checkpoint ${id} not found for sprite ${sprite.name}`);
    return found;
  };

  app.post<{ Params: { name: string }; Body: unknown }>(routerPattern('checkpoint'), async (request, reply) => {
    const caller = await deps.authenticate(request);
    const sprite = await lookup(caller.org.id, request.params.name);
    const body = request.body ?? {};
    if (typeof body !== 'object' || Array.isArray(body))
      throw new SpriteError(
        ErrorCode.ValidationFailed,
        'the body must be a JSON object such as {"comment":"before the upgrade"}',
      );
    const comment = (body as { comment?: unknown }).comment;
    if (comment !== undefined && comment !== null && (typeof comment !== 'string' || comment.length > MAX_COMMENT)) {
      throw new SpriteError(
        ErrorCode.ValidationFailed,
        `comment must be a string of at most ${MAX_COMMENT} characters`,
      );
    }
    await streamProgress(reply, async (info) => {
      const made = await lifecycle.createCheckpoint(
        sprite,
        typeof comment === 'string' && comment !== '' ? comment : null,
        info,
      );
      return `Checkpoint ${made.id} created`;
    });
  });

  app.get<{ Params: { name: string }; Querystring: { history?: string; includeAuto?: string } }>(
    routerPattern('checkpoints'),
    async (request, reply) => {
      const caller = await deps.authenticate(request);
      const sprite = await lookup(caller.org.id, request.params.name);
      const includeAuto = request.query.includeAuto === 'true' || request.query.includeAuto === '1';
      let list = await registry.checkpoints.list(sprite.id, { includeAuto });
      const history = request.query.history;
      if (history !== undefined && history !== '')
        list = list.filter((c) => c.id === history || c.history.includes(history));
      return reply.type('application/json').send(list.map(present));
    },
  );

  app.get<{ Params: SpriteRouteParams<'checkpointById'> }>(routerPattern('checkpointById'), async (request) => {
    const caller = await deps.authenticate(request);
    const sprite = await lookup(caller.org.id, request.params.name);
    return present(await checkpointOf(sprite, request.params.checkpoint));
  });

  app.post<{ Params: SpriteRouteParams<'checkpointRestore'> }>(
    routerPattern('checkpointRestore'),
    async (request, reply) => {
      const caller = await deps.authenticate(request);
      const sprite = await lookup(caller.org.id, request.params.name);
      const target = await checkpointOf(sprite, request.params.checkpoint);
      await streamProgress(reply, async (info) => {
        await lifecycle.restoreCheckpoint(sprite, target.id, info);
        return `Checkpoint ${target.id} restored`;
      });
    },
  );

  app.delete<{ Params: SpriteRouteParams<'checkpointById'> }>(
    routerPattern('checkpointById'),
    async (request, reply) => {
      const caller = await deps.authenticate(request);
      const sprite = await lookup(caller.org.id, request.params.name);
      const target = await checkpointOf(sprite, request.params.checkpoint);
      await lifecycle.deleteCheckpoint(sprite, target.id);
      return reply.status(204).send();
    },
  );
}
