import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** The cookie a browser gets after logging in to a sprite URL (one per sprite host). */
export const SESSION_COOKIE = 'sprites_session';
/** How long a login lasts. */
export const SESSION_SECONDS = 7 * 24 * 3600;

/**
 * Signs and checks URL login cookies: `<org id>.<expiry>.<hmac>`. The key lives in the data
 * dir (0600), so logins survive restarts; deleting it logs everyone out.
 */
export class SessionSigner {
  private readonly key: Buffer;

  constructor(dataDir: string) {
    const path = join(dataDir, 'url-session.key');
    let key: Buffer;
    try {
      key = Buffer.from(readFileSync(path, 'utf8').trim(), 'hex');
      if (key.length < 32) throw new Error('short key');
    } catch {
      key = randomBytes(32);
      writeFileSync(path, `${key.toString('hex')}\n`, { mode: 0o600 });
    }
    this.key = key;
  }

  private mac(text: string): string {
    return createHmac('sha256', this.key).update(text).digest('base64url');
  }

  issue(orgId: string, now = Date.now()): string {
    const body = `${orgId}.${Math.floor(now / 1000) + SESSION_SECONDS}`;
    return `${body}.${this.mac(body)}`;
  }

  /** The organization a valid, unexpired cookie was issued for. */
  verify(value: string, now = Date.now()): string | null {
    const parts = value.split('.');
    if (parts.length !== 3) return null;
    const [orgId, expiry, mac] = parts as [string, string, string];
    const expected = Buffer.from(this.mac(`${orgId}.${expiry}`));
    const given = Buffer.from(mac);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null;
    if (!/^\d+$/.test(expiry) || Number(expiry) * 1000 < now) return null;
    return orgId;
  }
}

/** The Set-Cookie value that logs a browser in to one sprite host. */
export function sessionCookie(value: string, secure: boolean): string {
  return `${SESSION_COOKIE}=${value}; Path=/; Max-Age=${SESSION_SECONDS}; HttpOnly; SameSite=Lax${secure ? '; Secure' : ''}`;
}
