import type { Selectable } from 'kysely';
import type { RegistryDb } from './db.js';
import type { CheckpointsTable } from './schema.js';

export interface CheckpointRecord {
  spriteId: string;
  id: string;
  seq: number;
  isAuto: boolean;
  comment: string | null;
  sourceId: string | null;
  history: string[];
  createdAt: string;
}

function fromRow(row: Selectable<CheckpointsTable>): CheckpointRecord {
  return {
    spriteId: row.sprite_id,
    id: row.id,
    seq: row.seq,
    isAuto: row.is_auto === 1,
    comment: row.comment,
    sourceId: row.source_id,
    history: JSON.parse(row.history_json) as string[],
    createdAt: row.created_at,
  };
}

/** Checkpoints of each sprite; the snapshots themselves live in the storage pool. */
export class CheckpointStore {
  constructor(private readonly db: RegistryDb) {}

  /** The number the next `vN` checkpoint will get (taken for real by `record`). */
  async peekVersion(spriteId: string): Promise<number> {
    const row = await this.db
      .selectFrom('sprites')
      .select('next_checkpoint_version')
      .where('id', '=', spriteId)
      .executeTakeFirstOrThrow();
    return row.next_checkpoint_version;
  }

  /**
   * Records a checkpoint in one transaction (one fsync): the row, and for a `vN` one the
   * version counter moved past it and the sprite's current checkpoint.
   */
  async record(c: CheckpointRecord, version: number | null): Promise<void> {
    await this.db.transaction().execute(async (tx) => {
      await tx
        .insertInto('checkpoints')
        .values({
          sprite_id: c.spriteId,
          id: c.id,
          seq: c.seq,
          is_auto: c.isAuto ? 1 : 0,
          comment: c.comment,
          source_id: c.sourceId,
          history_json: JSON.stringify(c.history),
          created_at: c.createdAt,
        })
        .execute();
      if (version !== null) {
        await tx
          .updateTable('sprites')
          .set({ next_checkpoint_version: version + 1, current_checkpoint: c.id })
          .where('id', '=', c.spriteId)
          .execute();
      }
    });
  }

  async nextSeq(spriteId: string): Promise<number> {
    const row = await this.db
      .selectFrom('checkpoints')
      .select((eb) => eb.fn.max<number>('seq').as('m'))
      .where('sprite_id', '=', spriteId)
      .executeTakeFirst();
    return row?.m === null || row?.m === undefined ? 0 : Number(row.m) + 1;
  }

  async get(spriteId: string, id: string): Promise<CheckpointRecord | null> {
    const row = await this.db
      .selectFrom('checkpoints')
      .selectAll()
      .where('sprite_id', '=', spriteId)
      .where('id', '=', id)
      .executeTakeFirst();
    return row ? fromRow(row) : null;
  }

  /** Newest first. */
  async list(spriteId: string, opts: { includeAuto: boolean }): Promise<CheckpointRecord[]> {
    let q = this.db.selectFrom('checkpoints').selectAll().where('sprite_id', '=', spriteId);
    if (!opts.includeAuto) q = q.where('is_auto', '=', 0);
    return (await q.orderBy('seq', 'desc').execute()).map(fromRow);
  }

  async remove(spriteId: string, id: string): Promise<void> {
    await this.db.deleteFrom('checkpoints').where('sprite_id', '=', spriteId).where('id', '=', id).execute();
  }

  async removeAll(spriteId: string): Promise<void> {
    await this.db.deleteFrom('checkpoints').where('sprite_id', '=', spriteId).execute();
  }
}
