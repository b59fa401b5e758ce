import { Agent, request as httpRequest } from 'node:http';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Caller } from '../api/auth.js';
import { lingerClose } from '../api/linger.js';
import { findSprite } from '../api/lookup.js';
import type { SpriteLifecycle } from '../lifecycle/index.js';
import type { Registry } from '../registry/index.js';

/** Headers that must not reach the (untrusted) sprite. */
export const PRIVATE_HEADERS = new Set(['authorization', 'cookie', 'proxy-authorization']);
/** Hop-by-hop headers of the agent's response that Node sets itself. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'content-length']);

export interface HttpForwardDeps {
  registry: Registry;
  lifecycle: SpriteLifecycle;
  authenticate(request: FastifyRequest): Promise<Caller>;
}

/**
 * Per-sprite HTTP endpoints the agent serves: authenticated and woken here, then streamed to
 * and from the agent's socket unchanged (NDJSON bodies flow as they are written).
 */
/**
 * Connections to agents are kept open between requests (one pool per socket path): a small
 * file read should not pay for a new connection each time.
 */
const agentConnections = new Agent({ keepAlive: true, keepAliveMsecs: 10_000, maxFreeSockets: 4 });

/** Forwarded requests not finished yet (shutdown says what it waits for). */
const inFlight = new Set<string>();

export function forwardedInFlight(): string[] {
  return [...inFlight];
}

export function httpForwardRoutes(app: FastifyInstance, deps: HttpForwardDeps): void {
  const forward = async (request: FastifyRequest<{ Params: { name: string } }>, reply: FastifyReply) => {
    const label = `${request.method} ${request.url}`;
    inFlight.add(label);
    reply.raw.once('close', () => inFlight.delete(label));
    const caller = await deps.authenticate(request);
    const name = request.params.name;
    const sprite = await findSprite(deps.registry, caller.org.id, name);
    await deps.lifecycle.ensureRunning(sprite.id);
    const headers: Record<string, string | string[]> = {};
    for (const [k, v] of Object.entries(request.headers)) if (v !== undefined && !PRIVATE_HEADERS.has(k)) headers[k] = v;
    deps.lifecycle.connectionOpened(sprite.id);
    reply.raw.once('close', () => deps.lifecycle.connectionClosed(sprite.id));
    const upstream = await new Promise<import('node:http').IncomingMessage>((resolve, reject) => {
      const req = httpRequest({ socketPath: deps.lifecycle.agentSocket(sprite.id), method: request.method, path: request.url, headers, agent: agentConnections }, resolve);
      req.on('error', reject);
      // A streamed body (HTTP exec's stdin) goes through as it arrives.
      const body = request.body as NodeJS.ReadableStream | undefined;
      if (body && typeof body.pipe === 'function') body.pipe(req);
      else req.end();
    });
    void reply.status(upstream.statusCode ?? 502);
    // Answered before the client finished sending (a refused upload): stop forwarding the
    // body and close after a linger.
    reply.raw.once('finish', () => lingerClose(request.raw));
    for (const [k, v] of Object.entries(upstream.headers)) if (v !== undefined && !HOP_BY_HOP.has(k)) void reply.header(k, v);
    return reply.send(upstream);
  };
  app.get('/v1/sprites/:name/exec', forward);
  app.post('/v1/sprites/:name/exec/:id/kill', forward);
  // HTTP exec: any body type is stdin, streamed, never parsed. Its own plugin scope keeps the
  // catch-all parser away from the JSON routes.
  void app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', (_request, payload, done) => done(null, payload));
    scope.post('/v1/sprites/:name/exec', { bodyLimit: 1024 ** 4 }, forward);
    // The filesystem API: uploads of any size stream through, JSON bodies are the agent's to parse.
    scope.route({ method: ['GET', 'HEAD', 'PUT', 'POST', 'DELETE'], url: '/v1/sprites/:name/fs/:op', bodyLimit: 1024 ** 4, handler: forward });
    // Services (PROTOCOL §11) live in the agent: definitions, supervision, logs and streams.
    for (const url of ['/v1/sprites/:name/services', '/v1/sprites/:name/services/:svc', '/v1/sprites/:name/services/:svc/:action']) {
      scope.route({ method: ['GET', 'PUT', 'POST', 'DELETE'], url, bodyLimit: 1024 * 1024, handler: forward });
    }
  });
}
