import { routerPattern } from '@sprites/protocol';
import type { FastifyInstance } from 'fastify';
import type { PolicyService } from '../../policy/index.js';
import type { ApiDeps } from '../deps.js';
import { findSprite } from '../../access/index.js';

/** GET/POST /v1/sprites/{name}/policy/network (PROTOCOL.md §13): 200 with the policy; 204 on set. */
export function policyRoutes(app: FastifyInstance, deps: ApiDeps, policy: PolicyService): void {
  app.get<{ Params: { name: string } }>(routerPattern('networkPolicy'), async (request) => {
    const caller = await deps.authenticate(request);
    const sprite = await findSprite(deps.registry, caller.org.id, request.params.name);
    return policy.get(sprite.id);
  });

  app.post<{ Params: { name: string }; Body: unknown }>(routerPattern('networkPolicy'), async (request, reply) => {
    const caller = await deps.authenticate(request);
    const sprite = await findSprite(deps.registry, caller.org.id, request.params.name);
    await policy.set(sprite.id, request.body, () => deps.lifecycle.runningSlot(sprite.id));
    return reply.status(204).send();
  });
}
