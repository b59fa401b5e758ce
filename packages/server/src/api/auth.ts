import { ErrorCode, SpriteError } from '@sprites/protocol';
import type { FastifyRequest } from 'fastify';
import type { Organization, Registry, TokenGrant } from '../registry/index.js';

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

export function authenticate(registry: Registry, request: FastifyRequest): Promise<Caller> {
  return authenticateHeader(registry, request.headers.authorization);
}

export async function authenticateHeader(registry: Registry, authorization: string | undefined): Promise<Caller> {
  const token = tokenFrom(authorization);
  if (!token) {
    throw new SpriteError(ErrorCode.Unauthorized, 'missing or malformed Authorization header; send "Authorization: Bearer <token>"');
  }
  const grant = await registry.tokens.resolve(token);
  if (!grant) throw new SpriteError(ErrorCode.Unauthorized, 'invalid token');
  const org = await registry.orgs.byId(grant.orgId);
  if (!org) throw new SpriteError(ErrorCode.Unauthorized, 'the organization of this token no longer exists');
  return { grant, org };
}

export function requireAdmin(caller: Caller): void {
  if (!caller.grant.isAdmin) throw new SpriteError(ErrorCode.Forbidden, 'this needs the admin token (DATA_DIR/admin.token)');
}
