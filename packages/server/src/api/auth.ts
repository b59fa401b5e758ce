import { ErrorCode, SpriteError } from '@sprites/protocol';
import type { FastifyRequest } from 'fastify';
import { authenticateHeader, type Caller } from '../access/index.js';
import type { Registry } from '../registry/index.js';

/** The caller of an API request, by its `Authorization` header. */
export function authenticate(registry: Registry, request: FastifyRequest): Promise<Caller> {
  return authenticateHeader(registry, request.headers.authorization);
}

export function requireAdmin(caller: Caller): void {
  if (!caller.grant.isAdmin)
    throw new SpriteError(ErrorCode.Forbidden, 'this needs the admin token (DATA_DIR/admin.token)');
}
