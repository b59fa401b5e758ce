import { ErrorCode, splitTokenProtocols, SpriteError } from '@sprites/protocol';
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

/**
 * The token a WebSocket handshake carries in `Sec-WebSocket-Protocol` (the protocol's
 * sub-protocol carrier, base64url-decoded here), and that header with the token taken out
 * (what the agent gets). Null when no token rides there.
 */
export function tokenFromProtocols(header: string | undefined): { token: string; rest: string } | null {
  const carried = splitTokenProtocols(header);
  if (!carried) return null;
  return { token: Buffer.from(carried.encoded, 'base64url').toString('utf8'), rest: carried.rest };
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
