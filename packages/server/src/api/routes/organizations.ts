import {
  ErrorCode,
  nameProblem,
  SpriteError,
  type CreateOrganizationRequest,
  type CreateTokenRequest,
} from '@sprites/protocol';
import type { FastifyInstance } from 'fastify';
import { requireAdmin } from '../auth.js';
import type { ApiDeps } from '../deps.js';
import { createOrganizationBody, createTokenBody } from '../schemas.js';

/** Organizations and tokens: administered with the admin token. */
export function organizationRoutes(app: FastifyInstance, deps: ApiDeps): void {
  const { registry } = deps;

  app.post<{ Body: CreateOrganizationRequest }>(
    '/v1/organizations',
    { schema: { body: createOrganizationBody } },
    async (request, reply) => {
      requireAdmin(await deps.authenticate(request));
      const problem = nameProblem(request.body.name);
      if (problem)
        throw new SpriteError(ErrorCode.InvalidName, problem.replace(/^name/, 'organization name'), {
          details: { field: 'name' },
        });
      if (await registry.orgs.bySlug(request.body.name)) {
        throw new SpriteError(ErrorCode.NameTaken, `organization "${request.body.name}" already exists`, {
          details: { field: 'name' },
        });
      }
      const org = await registry.orgs.create(request.body.name);
      return reply.status(201).send({ name: org.slug, created_at: org.createdAt });
    },
  );

  app.post<{ Params: { org: string }; Body: CreateTokenRequest | null }>(
    '/v1/organizations/:org/tokens',
    { schema: { body: createTokenBody } },
    async (request, reply) => {
      requireAdmin(await deps.authenticate(request));
      const org = await registry.orgs.bySlug(request.params.org);
      if (!org) throw new SpriteError(ErrorCode.OrganizationNotFound, `organization not found: ${request.params.org}`);
      const token = await registry.tokens.mint(org.id, request.body?.description ?? 'API token');
      return reply.status(201).send({ token });
    },
  );
}
