import { randomUUID } from 'node:crypto';
import type { RegistryDb } from './db.js';

export interface Organization {
  id: string;
  slug: string;
  createdAt: string;
}

export class OrganizationStore {
  /** Organizations by id: looked up on every authenticated call, never changed once made. */
  private readonly byIdCache = new Map<string, Organization>();

  constructor(private readonly db: RegistryDb) {}

  async create(slug: string): Promise<Organization> {
    const org = { id: randomUUID(), slug, created_at: new Date().toISOString() };
    await this.db.insertInto('organizations').values(org).execute();
    return { id: org.id, slug, createdAt: org.created_at };
  }

  async bySlug(slug: string): Promise<Organization | null> {
    const row = await this.db.selectFrom('organizations').selectAll().where('slug', '=', slug).executeTakeFirst();
    return row ? { id: row.id, slug: row.slug, createdAt: row.created_at } : null;
  }

  async byId(id: string): Promise<Organization | null> {
    const known = this.byIdCache.get(id);
    if (known) return known;
    const row = await this.db.selectFrom('organizations').selectAll().where('id', '=', id).executeTakeFirst();
    if (!row) return null;
    const org = { id: row.id, slug: row.slug, createdAt: row.created_at };
    if (this.byIdCache.size >= 4096) this.byIdCache.clear();
    this.byIdCache.set(id, org);
    return org;
  }
}
