import type { URLSettings } from '@sprites/protocol';
import { tokenFrom } from '../access/index.js';
import { SESSION_COOKIE } from './session.js';
import { cookieValue } from './cookies.js';

/** What a request to a sprite URL may prove itself with. */
export interface UrlCredentials {
  authorization?: string;
  cookie?: string;
}

export interface UrlAuthDeps {
  /** The organization a token belongs to, or null for no valid token. */
  tokenOrg(token: string): Promise<string | null>;
  /** The organization a login cookie was issued for, or null for an invalid or expired one. */
  sessionOrg(cookie: string): string | null;
}

/**
 * Whether a request may reach a sprite's URL: a `public` URL asks for nothing; a private one
 * (`auth: sprite`) wants a token (Bearer or FlyV1 header) or a login cookie of the sprite's
 * organization. A token of another organization does not count, but a valid cookie still may.
 */
export async function mayReach(
  sprite: { orgId: string; urlSettings: Pick<URLSettings, 'auth'> },
  credentials: UrlCredentials,
  deps: UrlAuthDeps,
): Promise<boolean> {
  if (sprite.urlSettings.auth === 'public') return true;
  const token = tokenFrom(credentials.authorization);
  if (token && (await deps.tokenOrg(token)) === sprite.orgId) return true;
  const cookie = cookieValue(credentials.cookie, SESSION_COOKIE);
  return cookie !== null && deps.sessionOrg(cookie) === sprite.orgId;
}
