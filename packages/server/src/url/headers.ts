import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';
import { tokenFrom } from '../access/index.js';
import { hostOnlySetCookies, withoutCookie } from './cookies.js';
import { SESSION_COOKIE } from './session.js';

/** Hop-by-hop request headers a proxied HTTP request does not pass on (an upgrade needs them). */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
  'te',
  'trailer',
]);

/**
 * The headers a request reaches the sprite's app with: without the daemon's credentials (a
 * token in `Authorization`, the login cookie), with `X-Forwarded-For/-Host/-Proto` added.
 * An `Authorization` header that is not a token of ours is the app's and passes.
 */
export function appRequestHeaders(
  headers: IncomingHttpHeaders,
  clientAddress: string,
  options: { upgrade: boolean; secure: boolean },
): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  for (const [k, v] of Object.entries(headers)) {
    if (v === undefined) continue;
    if (!options.upgrade && HOP_BY_HOP.has(k)) continue;
    if (k === 'authorization' && tokenFrom(typeof v === 'string' ? v : undefined)) continue;
    if (k === 'cookie') {
      const rest = withoutCookie(typeof v === 'string' ? v : v.join('; '), SESSION_COOKIE);
      if (rest) out.cookie = rest;
      continue;
    }
    out[k] = v;
  }
  out['x-forwarded-for'] = headers['x-forwarded-for']
    ? `${String(headers['x-forwarded-for'])}, ${clientAddress}`
    : clientAddress;
  out['x-forwarded-host'] = headers.host ?? '';
  out['x-forwarded-proto'] = options.secure ? 'https' : 'http';
  return out;
}

/** The headers the app's answer reaches the client with: its cookies host-only, never ours. */
export function appResponseHeaders(headers: IncomingHttpHeaders): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  for (const [k, v] of Object.entries(headers))
    if (v !== undefined && k !== 'connection' && k !== 'keep-alive' && k !== 'set-cookie') out[k] = v;
  const cookies = hostOnlySetCookies(headers['set-cookie'], SESSION_COOKIE);
  if (cookies.length > 0) out['set-cookie'] = cookies;
  return out;
}
