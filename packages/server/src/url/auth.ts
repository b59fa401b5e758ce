import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** The cookie a browser gets after logging in to a sprite URL (one per sprite host). */
export const SESSION_COOKIE = 'sprites_session';
/** How long a login lasts. */
export const SESSION_SECONDS = 7 * 24 * 3600;
/** Paths the daemon answers itself on every sprite host. */
export const LOGIN_PATH = '/__sprites/login';

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

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** A small form asking for an organization token. */
export function loginPage(spriteName: string, next: string, error?: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Log in to ${escapeHtml(spriteName)}</title>
<style>body{font-family:system-ui,sans-serif;max-width:28rem;margin:4rem auto;padding:0 1rem}input{width:100%;padding:.5rem;margin:.5rem 0;box-sizing:border-box}button{padding:.5rem 1rem}.error{color:#b00}</style>
</head><body>
<h1>${escapeHtml(spriteName)}</h1>
<p>This sprite's URL is private to its organization. Paste an organization token (the daemon's admin token, or one made with <code>POST /v1/organizations/ORG/tokens</code>).</p>
${error ? `<p class="error">${escapeHtml(error)}</p>` : ''}
<form method="post" action="${LOGIN_PATH}">
<input type="hidden" name="next" value="${escapeHtml(next)}">
<label>Token <input type="password" name="token" autocomplete="current-password" autofocus required></label>
<button type="submit">Log in</button>
</form>
</body></html>
`;
}

const SAME_HOST = 'http://sprite.invalid';

/**
 * Only same-host paths are followed after a login (no open redirect). Browsers read `\` as
 * `/` and drop tabs and newlines from URLs, so `/\evil` or `/<tab>/evil` would leave the host:
 * any backslash or control character sends the user to `/` instead.
 */
export function safeNext(next: string | null | undefined): string {
  if (!next || !next.startsWith('/') || next.startsWith('//') || next.length > 2048) return '/';
  if (/[\\\u0000-\u001f\u007f]/.test(next)) return '/';
  try {
    const url = new URL(next, SAME_HOST);
    return url.origin === SAME_HOST ? `${url.pathname}${url.search}${url.hash}` : '/';
  } catch {
    return '/';
  }
}
