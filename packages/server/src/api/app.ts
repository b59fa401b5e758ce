import { SPRITE_VERSION, SPRITE_VERSION_HEADER } from '@sprites/protocol';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { DaemonConfig } from '../config.js';
import type { SpriteLifecycle } from '../lifecycle/index.js';
import { loggablePath, type Logger } from '../log.js';
import type { Registry } from '../registry/index.js';
import { lingerClose } from '../access/index.js';
import { authenticate } from './auth.js';
import type { ApiDeps } from './deps.js';
import { errorHandler, notFoundHandler } from './error-handler.js';
import { checkpointRoutes } from './routes/checkpoints.js';
import { organizationRoutes } from './routes/organizations.js';
import { orgLimitRoutes } from './routes/org-limits.js';
import { spriteRoutes } from './routes/sprites.js';
import { httpForwardRoutes } from '../forward/index.js';
import type { SpriteUrlRouter } from '../url/index.js';
import type { PolicyService } from '../policy/index.js';
import { policyRoutes } from './routes/policy.js';

/** How long a JSON request body may take to arrive in full. */
export const JSON_BODY_DEADLINE_MS = 30_000;

/** Response headers a browser page may read (CORS hides the rest). */
const CORS_EXPOSED = [
  SPRITE_VERSION_HEADER,
  'retry-after',
  'x-ratelimit-limit',
  'x-ratelimit-remaining',
  'x-ratelimit-reset',
  'content-range',
  'content-length',
].join(', ');

export interface BuildAppOptions {
  config: DaemonConfig;
  registry: Registry;
  lifecycle: SpriteLifecycle;
  log: Logger;
  bodyLimitBytes?: number;
  /** Requests for sprite URLs (by Host) go here instead of the API. */
  spriteUrls?: SpriteUrlRouter;
  /** PEM certificate and key: serve HTTPS. */
  https?: { cert: Buffer; key: Buffer };
  /** Network policies (GET/POST policy/network). */
  policy?: PolicyService;
}

/** The public HTTP API as a Fastify instance (not yet listening). */
export function buildApp(opts: BuildAppOptions): FastifyInstance {
  // Typed as Fastify's logger so the instance is the plain FastifyInstance the routes take.
  const logger: FastifyBaseLogger = opts.log.child({ room: 'api' });
  const app = Fastify({
    ...(opts.https ? { https: opts.https } : {}),
    loggerInstance: logger,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: opts.bodyLimitBytes ?? 1024 * 1024,
    requestIdHeader: false,
    // Types are checked, never coerced: "2048" is not a number.
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, allErrors: false } },
    routerOptions: { maxParamLength: 1024 },
    // Errors Fastify raises before routing (bad URL, over-long parameters) get our error body too.
    frameworkErrors: (error, request, reply) => errorHandler(error, request, reply),
  });
  const deps: ApiDeps = {
    config: opts.config,
    registry: opts.registry,
    lifecycle: opts.lifecycle,
    log: opts.log,
    authenticate: (request) => authenticate(opts.registry, request),
    spriteChanged: (spriteId) => opts.spriteUrls?.forget(spriteId),
  };

  // Clients send Content-Type: application/json on body-less requests; treat empty as no body.
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
    const text = typeof body === 'string' ? body : body.toString('utf8');
    if (text.trim() === '') return done(null, undefined);
    try {
      done(null, JSON.parse(text));
    } catch (e) {
      const err = new Error(`request body is not valid JSON: ${(e as Error).message}`) as Error & {
        statusCode: number;
        code: string;
      };
      err.statusCode = 400;
      err.code = 'FST_ERR_CTP_INVALID_JSON_BODY';
      done(err, undefined);
    }
  });

  // A sprite URL (Host `<name>-<org>.<domain>`) is not the API: it is proxied to the sprite.
  const spriteUrls = opts.spriteUrls;
  if (spriteUrls) {
    app.addHook('onRequest', async (request, reply) => {
      if (!spriteUrls.matches(request.headers.host)) return;
      void reply.hijack();
      await spriteUrls.handleRequest(request.raw, reply.raw);
    });
  }
  app.addHook('onRequest', async (request, reply) => {
    if (reply.sent) return;
    void reply.header(SPRITE_VERSION_HEADER, SPRITE_VERSION);
    // Browsers may call the API from any page: it authenticates by bearer token, never by
    // cookie, so allowing every origin exposes nothing a page could not send anyway.
    // Raw headers, so replies written past Fastify (streams, forwarded files) carry them too.
    if (request.headers.origin !== undefined) {
      reply.raw.setHeader('access-control-allow-origin', '*');
      reply.raw.setHeader('access-control-expose-headers', CORS_EXPOSED);
    }
  });
  app.route({
    method: 'OPTIONS',
    url: '/*',
    handler: async (_request, reply) => {
      reply.raw.setHeader('access-control-allow-methods', 'GET, HEAD, POST, PUT, DELETE');
      reply.raw.setHeader('access-control-allow-headers', 'authorization, content-type, range');
      reply.raw.setHeader('access-control-max-age', '600');
      return reply.code(204).send();
    },
  });
  // A JSON body must arrive in time: a client trickling one byte a minute would otherwise hold
  // its connection (and a share of the daemon's) forever. Streamed bodies (uploads, HTTP exec
  // stdin) are exempt: they last as long as the data does, with backpressure.
  app.addHook('onRequest', async (request, reply) => {
    if (
      reply.sent ||
      request.raw.complete ||
      (request.routeOptions.config as { streamedBody?: boolean } | undefined)?.streamedBody
    )
      return;
    const timer = setTimeout(() => {
      if (!request.raw.complete) request.raw.socket.destroy();
    }, JSON_BODY_DEADLINE_MS);
    timer.unref();
    request.raw.once('end', () => clearTimeout(timer));
    request.raw.once('close', () => clearTimeout(timer));
  });
  // Fastify answers a too-large body (413) with `connection: close` before reading it; Node
  // would then close with unread bytes and reset the answer away. Linger instead.
  app.addHook('onSend', async (request, reply, payload) => {
    if (!request.raw.complete && String(reply.getHeader('connection')).toLowerCase() === 'close') {
      reply.removeHeader('connection');
      reply.raw.once('finish', () => lingerClose(request.raw));
    }
    return payload;
  });
  app.addHook('onResponse', async (request, reply) => {
    request.log.debug(
      {
        method: request.method,
        url: loggablePath(request.url),
        status: reply.statusCode,
        durationMs: Math.round(reply.elapsedTime),
      },
      'request',
    );
  });
  app.setErrorHandler(errorHandler);
  app.setNotFoundHandler(notFoundHandler);

  spriteRoutes(app, deps);
  organizationRoutes(app, deps);
  orgLimitRoutes(app, deps);
  checkpointRoutes(app, deps);
  if (opts.policy) policyRoutes(app, deps, opts.policy);
  httpForwardRoutes(app, deps);
  return app;
}
