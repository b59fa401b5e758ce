import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { RegistryDb } from './db.js';

export interface TokenGrant {
  tokenId: string;
  orgId: string;
  isAdmin: boolean;
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** A new secret token: a recognizable prefix and 32 random bytes. */
export function generateToken(): string {
  return `spr_${randomBytes(32).toString('base64url')}`;
}

const MAX_CACHED_GRANTS = 4096;

/** Tokens are stored only as sha256 hashes and belong to exactly one organization. */
export class TokenStore {
  /**
   * Grants of tokens seen, by hash: every API call and exec resolves its token, and a grant
   * never changes once minted (there is no revocation yet; adding it must evict here).
   */
  private readonly grants = new Map<string, TokenGrant>();

  constructor(private readonly db: RegistryDb) {}

  /** Mints a token for `orgId` and returns the secret (shown once). */
  async mint(orgId: string, description: string, isAdmin = false): Promise<string> {
    const token = generateToken();
    await this.db
      .insertInto('tokens')
      .values({
        id: randomUUID(),
        org_id: orgId,
        token_hash: hashToken(token),
        description,
        is_admin: isAdmin ? 1 : 0,
        created_at: new Date().toISOString(),
      })
      .execute();
    return token;
  }

  async resolve(token: string): Promise<TokenGrant | null> {
    const hash = hashToken(token);
    const known = this.grants.get(hash);
    if (known) return known;
    const row = await this.db
      .selectFrom('tokens')
      .select(['id', 'org_id', 'is_admin'])
      .where('token_hash', '=', hash)
      .executeTakeFirst();
    if (!row) return null;
    const grant = { tokenId: row.id, orgId: row.org_id, isAdmin: row.is_admin === 1 };
    if (this.grants.size >= MAX_CACHED_GRANTS) this.grants.clear();
    this.grants.set(hash, grant);
    return grant;
  }

  /** Revokes every admin token (a lost admin.token file is replaced by a new one). */
  async revokeAdmins(): Promise<void> {
    await this.db.deleteFrom('tokens').where('is_admin', '=', 1).execute();
    this.grants.clear();
  }

  async hasAdmin(): Promise<boolean> {
    const row = await this.db.selectFrom('tokens').select('id').where('is_admin', '=', 1).executeTakeFirst();
    return row !== undefined;
  }
}
