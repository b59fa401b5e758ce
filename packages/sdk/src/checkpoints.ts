import type { CallOptions } from './abort.js';
import { spritePath } from '@sprites/protocol';
import type { SpriteContext } from './platform.js';
import { readText } from './http.js';
import type { StreamKinds } from './platform.js';
import { NDJSONStream } from './streams/ndjson.js';
import {
  checkpointFromWire,
  streamMessageFromWire,
  type Checkpoint,
  type ListCheckpointsOptions,
  type StreamMessage,
} from './types.js';

/** A stream of progress messages that ends with `complete` (or `error`). */
export class ProgressStream extends NDJSONStream<StreamMessage> {
  /**
   * Reads to the end; resolves the `complete` message, rejects with the server's text on
   * an `error` message (or if the stream ended without either).
   */
  async done(onProgress?: (m: StreamMessage) => void): Promise<StreamMessage> {
    let last: StreamMessage | undefined;
    await this.processAll((m) => {
      onProgress?.(m);
      if (m.type === 'complete' || m.type === 'error') last = m;
    });
    if (last?.type === 'complete') return last;
    throw new Error(last?.error ?? last?.data ?? 'the stream ended without completing');
  }
}

/** Progress of `createCheckpoint`. */
export class CheckpointStream extends ProgressStream {}
/** Progress of `restoreCheckpoint`. */
export class RestoreStream extends ProgressStream {}

export async function createCheckpoint<K extends StreamKinds>(
  ctx: SpriteContext<K>,
  comment?: string,
  opts: CallOptions = {},
): Promise<CheckpointStream> {
  const { response, deadline } = await ctx.transport.send('POST', spritePath('checkpoint', { name: ctx.name }), {
    json: comment ? { comment } : {},
    streaming: true,
    ...opts,
  });
  return new CheckpointStream(response, deadline, streamMessageFromWire);
}

export async function listCheckpoints<K extends StreamKinds>(
  ctx: SpriteContext<K>,
  filter: string | ListCheckpointsOptions = {},
): Promise<Checkpoint[]> {
  const opts: ListCheckpointsOptions = typeof filter === 'string' ? { history: filter } : filter;
  const list = await ctx.transport.json<unknown>('GET', spritePath('checkpoints', { name: ctx.name }), {
    query: { history: opts.history || undefined, includeAuto: opts.includeAuto ? 'true' : undefined },
    signal: opts.signal,
    timeout: opts.timeout,
  });
  if (!Array.isArray(list)) throw new Error('the checkpoint list is not a JSON array');
  return list.filter((c): c is Record<string, unknown> => !!c && typeof c === 'object').map(checkpointFromWire);
}

export async function getCheckpoint<K extends StreamKinds>(
  ctx: SpriteContext<K>,
  id: string,
  opts: CallOptions = {},
): Promise<Checkpoint> {
  return checkpointFromWire(
    await ctx.transport.json<Record<string, unknown>>(
      'GET',
      spritePath('checkpointById', { name: ctx.name, checkpoint: id }),
      opts,
    ),
  );
}

export async function restoreCheckpoint<K extends StreamKinds>(
  ctx: SpriteContext<K>,
  id: string,
  opts: CallOptions = {},
): Promise<RestoreStream> {
  const { response, deadline } = await ctx.transport.send(
    'POST',
    spritePath('checkpointRestore', { name: ctx.name, checkpoint: id }),
    { streaming: true, ...opts },
  );
  return new RestoreStream(response, deadline, streamMessageFromWire);
}

export async function deleteCheckpoint<K extends StreamKinds>(
  ctx: SpriteContext<K>,
  id: string,
  opts: CallOptions = {},
): Promise<void> {
  const response = await ctx.transport.send(
    'DELETE',
    spritePath('checkpointById', { name: ctx.name, checkpoint: id }),
    opts,
  );
  await readText(response);
}
