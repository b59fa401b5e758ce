import type { OrgLimits } from '../config.js';
import type { RegistryDb } from './db.js';

/** Limits set for one organization; a missing key means the daemon's default. */
export type OrgLimitOverrides = Partial<OrgLimits>;

/** A change: a number sets the limit, null returns it to the default, a missing key keeps it. */
export type OrgLimitPatch = { [K in keyof OrgLimits]?: number | null };

const COLUMN = {
  sprites: 'sprite_limit',
  running: 'running_limit',
  memoryMb: 'memory_limit_mb',
  storageGb: 'storage_limit_gb',
} as const;

/** The limits the admin gave organizations (table `org_limits`, migration 0005). */
export class OrgLimitStore {
  constructor(private readonly db: RegistryDb) {}

  async get(orgId: string): Promise<OrgLimitOverrides> {
    const row = await this.db.selectFrom('org_limits').selectAll().where('org_id', '=', orgId).executeTakeFirst();
    const out: OrgLimitOverrides = {};
    if (!row) return out;
    for (const key of Object.keys(COLUMN) as (keyof OrgLimits)[]) {
      const value = row[COLUMN[key]];
      if (value !== null) out[key] = value;
    }
    return out;
  }

  /** Applies `patch` in one statement and returns what is set afterwards. */
  async set(orgId: string, patch: OrgLimitPatch): Promise<OrgLimitOverrides> {
    const changes: Partial<Record<(typeof COLUMN)[keyof OrgLimits], number | null>> = {};
    for (const key of Object.keys(COLUMN) as (keyof OrgLimits)[]) {
      if (patch[key] !== undefined) changes[COLUMN[key]] = patch[key];
    }
    const updatedAt = new Date().toISOString();
    await this.db
      .insertInto('org_limits')
      .values({
        org_id: orgId,
        sprite_limit: null,
        running_limit: null,
        memory_limit_mb: null,
        storage_limit_gb: null,
        ...changes,
        updated_at: updatedAt,
      })
      .onConflict((oc) => oc.column('org_id').doUpdateSet({ ...changes, updated_at: updatedAt }))
      .execute();
    return this.get(orgId);
  }
}
