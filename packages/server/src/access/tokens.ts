import { ErrorCode, SpriteError } from '@sprites/protocol';
import type { Organization, Registry, TokenGrant } from '../registry/index.js';

/** Who is calling: the token's grant and its organization. */
export interface Caller {
  grant: TokenGrant;
  org: Organization;
}

/** `Authorization: Bearer <token>`; `FlyV1 <token>` too, as the official token-minting call sends it. */
export function tokenFrom(header: string | undefined): string | null {
  if (!header) return null;
  const m = /^(Bearer|FlyV1)\s+(\S+)\s*$/i.exec(header);
  return m?.[2] ?? null;
}

/** Sub-protocol a browser offers next to the token, and the one the connection settles on. */
export const TOKEN_PROTOCOL = 'sprites';
/** A browser cannot set headers on a WebSocket: it offers `sprites.bearer.<base64url token>`. */
export const TOKEN_PROTOCOL_PREFIX = 'sprites.bearer.';

/**
 * The token a WebSocket handshake carries in `Sec-WebSocket-Protocol`, and that header with
 * the token taken out (what the agent gets). Null when no token rides there.
 */
export function tokenFromProtocols(header: string | undefined): { token: string; rest: string } | null {
  if (!header) return null;
  const offered = header
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean);
  const carrier = offered.find((p) => p.startsWith(TOKEN_PROTOCOL_PREFIX));
  if (!carrier) return null;
  const encoded = carrier.slice(TOKEN_PROTOCOL_PREFIX.length);
  if (!/^[A-Za-z0-9_-]+$/.test(encoded)) return null;
  const token = Buffer.from(encoded, 'base64url').toString('utf8');
  const rest = offered.filter((p) => p !== carrier);
  return { token, rest: (rest.length > 0 ? rest : [TOKEN_PROTOCOL]).join(', ') };
}

/** The caller an `Authorization` header names; 401 when it names none. */
export async function authenticateHeader(registry: Registry, authorization: string | undefined): Promise<Caller> {
  const token = tokenFrom(authorization);
  if (!token) {
    throw new SpriteError(
      ErrorCode.Unauthorized,
      'missing or malformed Authorization header; send "Authorization: Bearer <token>"',
    );
  }
  const grant = await registry.tokens.resolve(token);
  if (!grant) throw new SpriteError(ErrorCode.Unauthorized, 'invalid token');
  const org = await registry.orgs.byId(grant.orgId);
  if (!org) throw new SpriteError(ErrorCode.Unauthorized, 'the organization of this token no longer exists');
  return { grant, org };
}
