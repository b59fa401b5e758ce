import { UrlError } from './errors.js';
import { LOGIN_PATH } from './login.js';

/** The host name without a port, lower-cased; IPv6 literals stay bracketed. */
export function hostName(header: string | undefined): string {
  const h = (header ?? '').trim().toLowerCase();
  if (h.startsWith('[')) return h.slice(0, h.indexOf(']') + 1);
  const colon = h.lastIndexOf(':');
  return colon >= 0 ? h.slice(0, colon) : h;
}

/** `<name>-<org>` when the host is a sprite URL under `domain`, else null. */
export function spriteLabel(host: string | undefined, domain: string): string | null {
  const name = hostName(host);
  const suffix = `.${domain}`;
  if (!name.endsWith(suffix)) return null;
  const label = name.slice(0, -suffix.length);
  return /^[a-z0-9-]+$/.test(label) ? label : null;
}

/** The 404 of a Host that names no sprite (or is not a sprite URL at all). */
export function noSpriteAt(host: string | undefined, domain: string): UrlError {
  return new UrlError(
    404,
    `no sprite answers at ${String(host ?? '?').slice(0, 300)}: the URL is <sprite>-<organization>.${domain}`,
  );
}

/** What a request to a sprite URL gets once its sprite is known. */
export type UrlRoute =
  /** The daemon's own login form. */
  | { kind: 'login' }
  /** The sprite's app. */
  | { kind: 'proxy' }
  /** A browser without a login is sent to the form, and back to where it was going after. */
  | { kind: 'redirect'; location: string }
  /** Anyone else without a login. */
  | { kind: 'refuse'; error: UrlError };

/** The parts of an HTTP request that decide its route. */
export interface RequestHead {
  method?: string;
  url?: string;
  accept?: string;
}

/**
 * Routes an HTTP request on a sprite host. The login path is the daemon's on every host and
 * needs no credentials; everything else goes to the app when `allowed` says the caller may
 * reach the sprite (checked only then, since it may cost a registry read).
 */
export async function routeRequest(
  head: RequestHead,
  spriteName: string,
  allowed: () => Promise<boolean>,
): Promise<UrlRoute> {
  const path = (head.url ?? '/').split('?')[0];
  if (path === LOGIN_PATH) return { kind: 'login' };
  if (await allowed()) return { kind: 'proxy' };
  const wantsHtml = head.method === 'GET' && /text\/html/.test(head.accept ?? '');
  if (wantsHtml) return { kind: 'redirect', location: `${LOGIN_PATH}?next=${encodeURIComponent(head.url ?? '/')}` };
  return {
    kind: 'refuse',
    error: new UrlError(
      401,
      `sprite ${spriteName} is private to its organization: send "Authorization: Bearer <token>" or log in at ${LOGIN_PATH}`,
    ),
  };
}

/** Routes a WebSocket upgrade on a sprite host: to the app, or refused (a socket cannot follow a login form). */
export async function routeUpgrade(spriteName: string, allowed: () => Promise<boolean>): Promise<UrlRoute> {
  if (await allowed()) return { kind: 'proxy' };
  return { kind: 'refuse', error: new UrlError(401, `sprite ${spriteName} is private to its organization`) };
}
