import { chmod } from 'node:fs/promises';
import Sqlite from 'better-sqlite3';
import { Kysely, Migrator, SqliteDialect, type MigrationProvider } from 'kysely';
import { migrations } from './migrations.js';
import type { Database } from './schema.js';

export type RegistryDb = Kysely<Database>;

/**
 * Opens (creating if needed) the SQLite registry in WAL mode and brings its schema up to
 * date. `synchronous=FULL` so that what a client was told succeeded survives a crash.
 */
export async function openRegistry(path: string): Promise<RegistryDb> {
  const sqlite = new Sqlite(path);
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = FULL');
  sqlite.pragma('foreign_keys = ON');
  sqlite.pragma('busy_timeout = 5000');
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: sqlite }) });
  const provider: MigrationProvider = { getMigrations: () => Promise.resolve(migrations) };
  const { error, results } = await new Migrator({ db, provider }).migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
    await db.destroy();
    throw new Error(`registry migration ${failed} failed on ${path}`, { cause: error });
  }
  // Token hashes live here: readable by root only, like the admin token.
  for (const file of [path, `${path}-wal`, `${path}-shm`]) await chmod(file, 0o600).catch(() => undefined);
  return db;
}
