import type { Selectable } from 'kysely';
import type { RegistryDb } from './db.js';
import type { RunsTable } from './schema.js';

export interface RunRecord {
  spriteId: string;
  runId: string;
  netSlot: number;
  idSlot: number;
  startedAt: string;
}

function fromRow(row: Selectable<RunsTable>): RunRecord {
  return {
    spriteId: row.sprite_id,
    runId: row.run_id,
    netSlot: row.net_slot,
    idSlot: row.id_slot,
    startedAt: row.started_at,
  };
}

/** Which host resources each running sprite holds (one row per running sprite). */
export class RunStore {
  constructor(private readonly db: RegistryDb) {}

  async put(r: RunRecord): Promise<void> {
    await this.db
      .insertInto('runs')
      .values({
        sprite_id: r.spriteId,
        run_id: r.runId,
        net_slot: r.netSlot,
        id_slot: r.idSlot,
        started_at: r.startedAt,
      })
      .onConflict((oc) =>
        oc
          .column('sprite_id')
          .doUpdateSet({ run_id: r.runId, net_slot: r.netSlot, id_slot: r.idSlot, started_at: r.startedAt }),
      )
      .execute();
  }

  async get(spriteId: string): Promise<RunRecord | null> {
    const row = await this.db.selectFrom('runs').selectAll().where('sprite_id', '=', spriteId).executeTakeFirst();
    return row ? fromRow(row) : null;
  }

  async all(): Promise<RunRecord[]> {
    const rows = await this.db.selectFrom('runs').selectAll().execute();
    return rows.map(fromRow);
  }

  /** Deletes the row only if it still belongs to `runId`, so a stale cleanup cannot erase a newer run. */
  async remove(spriteId: string, runId: string): Promise<void> {
    await this.db.deleteFrom('runs').where('sprite_id', '=', spriteId).where('run_id', '=', runId).execute();
  }
}
