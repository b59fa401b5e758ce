import type { IncomingMessage } from 'node:http';
import { BodyTooLargeError, DeadlineError, readBounded } from '../io/index.js';
import { UrlError } from './errors.js';
import { sessionCookie } from './session.js';

/** Paths the daemon answers itself on every sprite host. */
export const LOGIN_PATH = '/__sprites/login';

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
  // eslint-disable-next-line no-control-regex -- control characters are exactly what is refused here
  if (/[\\\u0000-\u001f\u007f]/.test(next)) return '/';
  try {
    const url = new URL(next, SAME_HOST);
    return url.origin === SAME_HOST ? `${url.pathname}${url.search}${url.hash}` : '/';
  } catch {
    return '/';
  }
}

/** The login form: its size and how long it may take to arrive. */
const LOGIN_FORM_MAX_BYTES = 16 * 1024;
const LOGIN_FORM_DEADLINE_MS = 10_000;

/** What the login path answers: the form (again, with a reason), or a redirect that sets the cookie. */
export type LoginAnswer = { status: 200 | 401; html: string } | { status: 303; location: string; cookie: string };

export interface LoginDeps {
  /** The organization a token belongs to, or null for no valid token. */
  tokenOrg(token: string): Promise<string | null>;
  /** A fresh login cookie value for an organization. */
  issueSession(orgId: string): string;
  /** Served over TLS: the cookie gets `Secure`. */
  secure: boolean;
}

/**
 * `GET /__sprites/login` shows the form; `POST` checks the pasted token against the sprite's
 * organization and, when it belongs, sets the login cookie and goes on to `next` (same host only).
 */
export async function answerLogin(
  request: { method?: string; url?: string },
  readForm: () => Promise<string>,
  sprite: { name: string; orgId: string },
  deps: LoginDeps,
): Promise<LoginAnswer> {
  const query = new URL(request.url ?? '/', 'http://x').searchParams;
  if (request.method === 'GET') return { status: 200, html: loginPage(sprite.name, safeNext(query.get('next'))) };
  if (request.method !== 'POST') throw new UrlError(405, `${LOGIN_PATH} takes GET or POST`);
  const form = new URLSearchParams(await readForm());
  const next = safeNext(form.get('next'));
  const orgId = await deps.tokenOrg(form.get('token')?.trim() ?? '');
  if (orgId !== sprite.orgId)
    return {
      status: 401,
      html: loginPage(sprite.name, next, "That token does not belong to this sprite's organization."),
    };
  return { status: 303, location: next, cookie: sessionCookie(deps.issueSession(sprite.orgId), deps.secure) };
}

/** The posted login form, bounded in size and time; a form that does not arrive is the caller's 4xx. */
export async function readLoginForm(req: IncomingMessage): Promise<string> {
  try {
    return (await readBounded(req, { limit: LOGIN_FORM_MAX_BYTES, deadlineMs: LOGIN_FORM_DEADLINE_MS })).toString(
      'utf8',
    );
  } catch (e) {
    if (e instanceof BodyTooLargeError)
      throw new UrlError(413, `the login form is larger than ${LOGIN_FORM_MAX_BYTES} bytes`);
    if (e instanceof DeadlineError)
      throw new UrlError(400, `the login form did not arrive within ${LOGIN_FORM_DEADLINE_MS} ms`);
    throw new UrlError(400, 'the login form could not be read');
  }
}
