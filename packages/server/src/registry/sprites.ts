import type { SpriteConfig, SpriteStatus, URLSettings } from '@sprites/protocol';
import type { RegistryDb } from './db.js';
import type { Selectable } from 'kysely';
import type { SpritesTable } from './schema.js';
import { urlLabel } from './migrations.js';

export interface SpriteRecord {
  id: string;
  orgId: string;
  name: string;
  status: SpriteStatus;
  config: Required<SpriteConfig>;
  environment: Record<string, string>;
  labels: string[];
  urlSettings: URLSettings;
  imageKey: string;
  createdAt: string;
  updatedAt: string;
  lastRunningAt: string | null;
  lastWarmingAt: string | null;
  seq: number;
  /** The checkpoint the disk descends from; null before the first. */
  currentCheckpoint: string | null;
  /** btrfs quota group (1/N) of the volume and its checkpoints; null until one is made. */
  quotaGroup: number | null;
}

export type NewSprite = Pick<
  SpriteRecord,
  'id' | 'orgId' | 'name' | 'status' | 'config' | 'environment' | 'labels' | 'urlSettings' | 'imageKey'
> & { quotaGroup?: number | null };

/** One sprite as the organization limits see it. */
export interface SpriteFootprint {
  id: string;
  status: SpriteStatus;
  ramMb: number;
  storageGb: number;
  /** It holds a run: a container that is up (running) or frozen (warm). */
  live: boolean;
}

/** Another organization's sprite already answers at the URL this sprite would get. */
export class UrlTakenError extends Error {
  constructor(readonly label: string) {
    super(`the sprite URL label "${label}" is already taken by a sprite of another organization`);
    this.name = 'UrlTakenError';
  }
}

export class NameTakenError extends Error {
  constructor(name: string) {
    super(`a sprite named "${name}" already exists in this organization`);
    this.name = 'NameTakenError';
  }
}

function fromRow(row: Selectable<SpritesTable>): SpriteRecord {
  return {
    id: row.id,
    orgId: row.org_id,
    name: row.name,
    status: row.status as SpriteStatus,
    config: JSON.parse(row.config_json) as Required<SpriteConfig>,
    environment: JSON.parse(row.environment_json) as Record<string, string>,
    labels: JSON.parse(row.labels_json) as string[],
    urlSettings: JSON.parse(row.url_settings_json) as URLSettings,
    imageKey: row.image_key,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    lastRunningAt: row.last_running_at,
    lastWarmingAt: row.last_warming_at,
    seq: row.seq,
    currentCheckpoint: row.current_checkpoint,
    quotaGroup: row.quota_group,
  };
}

export interface ListPage {
  sprites: SpriteRecord[];
  /** seq of the last returned sprite when more follow. */
  nextAfterSeq: number | null;
}

export class SpriteStore {
  constructor(private readonly db: RegistryDb) {}

  async insert(s: NewSprite): Promise<SpriteRecord> {
    const now = new Date().toISOString();
    const org = await this.db.selectFrom('organizations').select('slug').where('id', '=', s.orgId).executeTakeFirst();
    if (!org) throw new Error(`organization ${s.orgId} does not exist`);
    const label = urlLabel(s.name, org.slug);
    try {
      await this.db
        .insertInto('sprites')
        .values({
          id: s.id,
          org_id: s.orgId,
          name: s.name,
          status: s.status,
          config_json: JSON.stringify(s.config),
          environment_json: JSON.stringify(s.environment),
          labels_json: JSON.stringify(s.labels),
          url_settings_json: JSON.stringify(s.urlSettings),
          image_key: s.imageKey,
          created_at: now,
          updated_at: now,
          last_running_at: null,
          last_warming_at: null,
          current_checkpoint: null,
          quota_group: s.quotaGroup ?? null,
          url_label: label,
        })
        .execute();
    } catch (e) {
      if ((e as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE') {
        if (/url_label/.test((e as Error).message)) throw new UrlTakenError(label);
        throw new NameTakenError(s.name);
      }
      throw e;
    }
    const created = await this.byId(s.id);
    if (!created) throw new Error(`sprite ${s.id} vanished right after insert`);
    return created;
  }

  async byId(id: string): Promise<SpriteRecord | null> {
    const row = await this.db.selectFrom('sprites').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? fromRow(row) : null;
  }

  async byName(orgId: string, name: string): Promise<SpriteRecord | null> {
    const row = await this.db
      .selectFrom('sprites')
      .selectAll()
      .where('org_id', '=', orgId)
      .where('name', '=', name)
      .executeTakeFirst();
    return row ? fromRow(row) : null;
  }

  /** The sprite whose URL host label is `label` (`<name>-<org>`), if any. */
  async byUrlLabel(label: string): Promise<SpriteRecord | null> {
    const row = await this.db.selectFrom('sprites').selectAll().where('url_label', '=', label).executeTakeFirst();
    return row ? fromRow(row) : null;
  }

  async all(): Promise<SpriteRecord[]> {
    const rows = await this.db.selectFrom('sprites').selectAll().orderBy('seq').execute();
    return rows.map(fromRow);
  }

  /** A page of an organization's sprites in creation order, after `afterSeq`. */
  async list(orgId: string, opts: { prefix?: string; afterSeq?: number; limit: number }): Promise<ListPage> {
    let q = this.db.selectFrom('sprites').selectAll().where('org_id', '=', orgId);
    if (opts.prefix) q = q.where('name', '>=', opts.prefix).where('name', '<', `${opts.prefix}\uffff`);
    if (opts.afterSeq !== undefined) q = q.where('seq', '>', opts.afterSeq);
    const rows = await q
      .orderBy('seq')
      .limit(opts.limit + 1)
      .execute();
    const page = rows.slice(0, opts.limit).map(fromRow);
    const more = rows.length > opts.limit;
    return { sprites: page, nextAfterSeq: more ? (page[page.length - 1]?.seq ?? null) : null };
  }

  async countByStatus(orgId: string): Promise<Record<SpriteStatus, number>> {
    const rows = await this.db
      .selectFrom('sprites')
      .select(['status', (eb) => eb.fn.countAll<number>().as('n')])
      .where('org_id', '=', orgId)
      .groupBy('status')
      .execute();
    const counts: Record<SpriteStatus, number> = { running: 0, warm: 0, cold: 0 };
    for (const r of rows) counts[r.status as SpriteStatus] = Number(r.n);
    return counts;
  }

  /**
   * What each of an organization's sprites weighs against its limits: status, memory and
   * disk sizes, and whether it holds a run (a live container, running or warm).
   */
  async footprint(orgId: string): Promise<SpriteFootprint[]> {
    const rows = await this.db
      .selectFrom('sprites')
      .leftJoin('runs', 'runs.sprite_id', 'sprites.id')
      .select([
        'sprites.id as id',
        'sprites.status as status',
        'sprites.config_json as config_json',
        'runs.run_id as run_id',
      ])
      .where('sprites.org_id', '=', orgId)
      .execute();
    return rows.map((r) => {
      const config = JSON.parse(r.config_json) as Required<SpriteConfig>;
      return {
        id: r.id,
        status: r.status as SpriteStatus,
        ramMb: config.ram_mb,
        storageGb: config.storage_gb,
        live: r.run_id !== null,
      };
    });
  }

  async update(id: string, patch: { labels?: string[]; urlSettings?: URLSettings }): Promise<void> {
    await this.db
      .updateTable('sprites')
      .set({
        ...(patch.labels !== undefined ? { labels_json: JSON.stringify(patch.labels) } : {}),
        ...(patch.urlSettings !== undefined ? { url_settings_json: JSON.stringify(patch.urlSettings) } : {}),
        updated_at: new Date().toISOString(),
      })
      .where('id', '=', id)
      .execute();
  }

  async setStatus(id: string, status: SpriteStatus): Promise<void> {
    const now = new Date().toISOString();
    await this.db
      .updateTable('sprites')
      .set({
        status,
        ...(status === 'running' ? { last_running_at: now } : {}),
        ...(status === 'warm' ? { last_warming_at: now } : {}),
      })
      .where('id', '=', id)
      .execute();
  }

  async setImage(id: string, imageKey: string): Promise<void> {
    await this.db
      .updateTable('sprites')
      .set({ image_key: imageKey, updated_at: new Date().toISOString() })
      .where('id', '=', id)
      .execute();
  }

  async setCurrentCheckpoint(id: string, checkpointId: string | null): Promise<void> {
    await this.db.updateTable('sprites').set({ current_checkpoint: checkpointId }).where('id', '=', id).execute();
  }

  /** The sprite's network policy and its generation. */
  async networkPolicy(id: string): Promise<{ json: string; generation: number } | null> {
    const row = await this.db
      .selectFrom('sprites')
      .select(['network_policy_json', 'network_policy_generation'])
      .where('id', '=', id)
      .executeTakeFirst();
    return row ? { json: row.network_policy_json, generation: row.network_policy_generation } : null;
  }

  /** Stores a new policy; returns its generation (one more than before). */
  async setNetworkPolicy(id: string, json: string): Promise<number> {
    return this.db.transaction().execute(async (tx) => {
      const row = await tx
        .selectFrom('sprites')
        .select('network_policy_generation')
        .where('id', '=', id)
        .executeTakeFirstOrThrow();
      const generation = row.network_policy_generation + 1;
      await tx
        .updateTable('sprites')
        .set({ network_policy_json: json, network_policy_generation: generation })
        .where('id', '=', id)
        .execute();
      return generation;
    });
  }

  async setQuotaGroup(id: string, group: number): Promise<void> {
    await this.db.updateTable('sprites').set({ quota_group: group }).where('id', '=', id).execute();
  }

  async remove(id: string): Promise<void> {
    await this.db.deleteFrom('sprites').where('id', '=', id).execute();
  }
}
