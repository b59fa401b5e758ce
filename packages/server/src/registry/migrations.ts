import { sql, type Kysely, type Migration } from 'kysely';

/** Ordered schema migrations; names sort in application order. Never edit a shipped one. */
export const migrations: Record<string, Migration> = {
  '0001_initial': {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('organizations')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('slug', 'text', (c) => c.notNull().unique())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('tokens')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('org_id', 'text', (c) => c.notNull().references('organizations.id').onDelete('cascade'))
        .addColumn('token_hash', 'text', (c) => c.notNull().unique())
        .addColumn('description', 'text', (c) => c.notNull())
        .addColumn('is_admin', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('sprites')
        .addColumn('seq', 'integer', (c) => c.primaryKey().autoIncrement())
        .addColumn('id', 'text', (c) => c.notNull().unique())
        .addColumn('org_id', 'text', (c) => c.notNull().references('organizations.id'))
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('config_json', 'text', (c) => c.notNull())
        .addColumn('environment_json', 'text', (c) => c.notNull())
        .addColumn('labels_json', 'text', (c) => c.notNull())
        .addColumn('url_settings_json', 'text', (c) => c.notNull())
        .addColumn('image_key', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .addColumn('last_running_at', 'text')
        .addColumn('last_warming_at', 'text')
        .addUniqueConstraint('sprites_org_name', ['org_id', 'name'])
        .execute();
      await db.schema
        .createTable('runs')
        .addColumn('sprite_id', 'text', (c) => c.primaryKey())
        .addColumn('run_id', 'text', (c) => c.notNull())
        .addColumn('net_slot', 'integer', (c) => c.notNull())
        .addColumn('id_slot', 'integer', (c) => c.notNull())
        .addColumn('started_at', 'text', (c) => c.notNull())
        .execute();
      await sql`SELECT 1`.execute(db);
    },
  },
  '0002_checkpoints': {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('checkpoints')
        .addColumn('sprite_id', 'text', (c) => c.notNull())
        .addColumn('id', 'text', (c) => c.notNull())
        .addColumn('seq', 'integer', (c) => c.notNull())
        .addColumn('is_auto', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('comment', 'text')
        .addColumn('source_id', 'text')
        .addColumn('history_json', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('checkpoints_pk', ['sprite_id', 'id'])
        .execute();
      // The checkpoint the sprite's disk descends from (the last taken or restored), and the
      // btrfs quota group that holds its volume and checkpoints (ADR 0011).
      await db.schema.alterTable('sprites').addColumn('current_checkpoint', 'text').execute();
      await db.schema.alterTable('sprites').addColumn('quota_group', 'integer').execute();
      // vN ids are never reused, even after the newest is deleted.
      await db.schema
        .alterTable('sprites')
        .addColumn('next_checkpoint_version', 'integer', (c) => c.notNull().defaultTo(0))
        .execute();
    },
  },
  '0003_network_policy': {
    async up(db: Kysely<unknown>): Promise<void> {
      // The sprite's egress policy (PROTOCOL §13); no rules = unrestricted.
      await db.schema
        .alterTable('sprites')
        .addColumn('network_policy_json', 'text', (c) => c.notNull().defaultTo('{"rules":[]}'))
        .execute();
      // Bumped with every change: connections marked with an older generation are cut.
      await db.schema
        .alterTable('sprites')
        .addColumn('network_policy_generation', 'integer', (c) => c.notNull().defaultTo(0))
        .execute();
    },
  },
  '0004_url_labels': {
    async up(db: Kysely<unknown>): Promise<void> {
      // The host label of the sprite's URL (`<name>-<org>`), unique over all organizations so a
      // URL names exactly one sprite (DESIGN §5.7). Sprites made before this keep their URL when
      // it is unambiguous; of two that collide, the older keeps it and the newer has none.
      await db.schema.alterTable('sprites').addColumn('url_label', 'text').execute();
      const rows = await sql<{
        id: string;
        name: string;
        slug: string;
      }>`SELECT s.id AS id, s.name AS name, o.slug AS slug FROM sprites s JOIN organizations o ON o.id = s.org_id ORDER BY s.seq`.execute(
        db,
      );
      const taken = new Set<string>();
      for (const row of rows.rows) {
        const label = urlLabel(row.name, row.slug);
        if (taken.has(label)) continue;
        taken.add(label);
        await sql`UPDATE sprites SET url_label = ${label} WHERE id = ${row.id}`.execute(db);
      }
      await db.schema.createIndex('sprites_url_label').unique().on('sprites').column('url_label').execute();
    },
  },
  '0005_org_limits': {
    async up(db: Kysely<unknown>): Promise<void> {
      // Limits the admin set for an organization (ADR 0023); a null column, or no row at all,
      // means the daemon's default for that organization (config `orgLimits`), so changing
      // the defaults reaches every organization that was not given its own.
      await db.schema
        .createTable('org_limits')
        .addColumn('org_id', 'text', (c) => c.primaryKey().references('organizations.id').onDelete('cascade'))
        .addColumn('sprite_limit', 'integer')
        .addColumn('running_limit', 'integer')
        .addColumn('memory_limit_mb', 'integer')
        .addColumn('storage_limit_gb', 'integer')
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .execute();
    },
  },
};

/** The host label of a sprite's URL: `<sprite name>-<organization slug>`. */
export function urlLabel(spriteName: string, orgSlug: string): string {
  return `${spriteName}-${orgSlug}`;
}
