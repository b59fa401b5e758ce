import { Agent, request as httpRequest, type IncomingMessage } from 'node:http';
import { ErrorCode, routerPattern, SpriteError, type SpriteRoute, type SpriteRouteParams } from '@sprites/protocol';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { findSprite, lingerClose, type Caller } from '../access/index.js';
import { AGENT_HEADER_MAX_BYTES, type SpriteLifecycle } from '../lifecycle/index.js';
import { crashPoint } from '../host/index.js';
import { loggablePath } from '../log.js';
import type { Registry } from '../registry/index.js';
import { agentPath } from './path.js';

/** Headers that must not reach the (untrusted) sprite. */
export const PRIVATE_HEADERS = new Set(['authorization', 'cookie', 'proxy-authorization']);
/** Hop-by-hop headers of the agent's response that Node sets itself. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'content-length']);
/**
 * How long the agent may take to start its answer once the request (body included) is sent.
 * Streams (NDJSON, file reads, HTTP exec) answer with headers at once and then take as long
 * as they need; an agent that is stopped, or replaced by something that never answers, fails
 * the request with 504 instead of holding it and its sockets open.
 */
export const AGENT_ANSWER_START_MS = 30_000;

/** Route config of endpoints whose body streams to the agent for as long as it takes. */
export const STREAMED_BODY = { streamedBody: true } as const;

/** The per-sprite HTTP endpoints the agent serves (the WebSocket ones go through `upgrade.ts`). */
type ForwardedRoute = Extract<SpriteRoute, 'exec' | 'execKill' | 'fs' | 'services' | 'service' | 'serviceAction'>;

export interface HttpForwardDeps {
  registry: Registry;
  lifecycle: SpriteLifecycle;
  authenticate(request: FastifyRequest): Promise<Caller>;
}

/**
 * Connections to agents are kept open between requests (one pool per socket path): a small
 * file read should not pay for a new connection each time.
 */
const agentConnections = new Agent({ keepAlive: true, keepAliveMsecs: 10_000, maxFreeSockets: 4 });

/** Forwarded requests not finished yet (shutdown says what it waits for; paths only). */
const inFlight = new Map<object, string>();

export function forwardedInFlight(): string[] {
  return [...inFlight.values()];
}

/** The agent's answer to a forwarded request, or a 502/504 SpriteError saying why there is none. */
function askAgent(
  socketPath: string,
  method: string,
  path: string,
  headers: Record<string, string | string[]>,
  body: NodeJS.ReadableStream | undefined,
): Promise<IncomingMessage> {
  return new Promise<IncomingMessage>((resolve, reject) => {
    let timer: NodeJS.Timeout | undefined;
    const streamed = body !== undefined && typeof body.pipe === 'function';
    // A streamed body cannot be sent twice, so it never rides a kept-alive connection the agent
    // may be closing at that very moment (EPIPE); a unix socket connect costs microseconds.
    const req = httpRequest(
      {
        socketPath,
        method,
        path,
        headers,
        agent: streamed ? false : agentConnections,
        maxHeaderSize: AGENT_HEADER_MAX_BYTES,
      },
      (res) => {
        clearTimeout(timer);
        resolve(res);
      },
    );
    const startClock = () => {
      timer = setTimeout(
        () => req.destroy(Object.assign(new Error('deadline'), { code: 'AGENT_DEADLINE' })),
        AGENT_ANSWER_START_MS,
      );
    };
    req.on('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      if (e.code === 'AGENT_DEADLINE')
        return reject(
          new SpriteError(
            ErrorCode.GatewayTimeout,
            `the sprite's agent did not answer within ${AGENT_ANSWER_START_MS / 1000} s; retry, or restart the sprite if it persists`,
          ),
        );
      reject(
        Object.assign(
          new SpriteError(
            ErrorCode.BadGateway,
            `the sprite's agent did not answer (${e.code ?? e.message}); retry in a moment`,
          ),
          { reused: req.reusedSocket, errno: e.code },
        ),
      );
    });
    // A streamed body (HTTP exec's stdin, an upload) goes through as it arrives; the clock
    // for the answer starts once it has been sent.
    if (streamed) {
      body.pipe(req);
      req.once('finish', startClock);
    } else {
      req.end();
      startClock();
    }
  });
}

/**
 * Per-sprite HTTP endpoints the agent serves: authenticated and woken here, then streamed to
 * and from the agent's socket (NDJSON bodies flow as they are written, with backpressure).
 */
export function httpForwardRoutes(app: FastifyInstance, deps: HttpForwardDeps): void {
  /** The handler of one route: its path is rebuilt for the agent from the route and the request's parameters. */
  const forward = (route: ForwardedRoute) => async (request: FastifyRequest, reply: FastifyReply) => {
    const key = {};
    inFlight.set(key, `${request.method} ${loggablePath(request.url)}`);
    reply.raw.once('close', () => inFlight.delete(key));
    const caller = await deps.authenticate(request);
    // Fastify names the parameters after the route's pattern (`routerPattern(route)`).
    const params = request.params as SpriteRouteParams<ForwardedRoute>;
    const sprite = await findSprite(deps.registry, caller.org.id, params.name);
    const path = agentPath(route, { ...params, name: sprite.name }, request.url);
    await deps.lifecycle.ensureRunning(sprite.id);
    const headers: Record<string, string | string[]> = {};
    for (const [k, v] of Object.entries(request.headers))
      if (v !== undefined && !PRIVATE_HEADERS.has(k)) headers[k] = v;
    deps.lifecycle.connectionOpened(sprite.id);
    reply.raw.once('close', () => deps.lifecycle.connectionClosed(sprite.id));
    const body = request.body as NodeJS.ReadableStream | undefined;
    const streamed = body !== undefined && typeof body.pipe === 'function';
    const socketPath = deps.lifecycle.agentSocket(sprite.id);
    let upstream: IncomingMessage;
    crashPoint('forward.asking');
    try {
      upstream = await askAgent(socketPath, request.method, path, headers, streamed ? body : undefined);
    } catch (e) {
      // A kept-alive connection the agent closed just as it was reused: one more try on a
      // fresh one, when no body was consumed.
      const stale =
        (e as { reused?: boolean; errno?: string }).reused === true &&
        ['ECONNRESET', 'EPIPE'].includes((e as { errno?: string }).errno ?? '');
      if (!stale || streamed) throw e;
      upstream = await askAgent(socketPath, request.method, path, headers, undefined);
    }
    crashPoint('forward.answered');
    void reply.status(upstream.statusCode ?? 502);
    // Answered before the client finished sending (a refused upload): stop forwarding the
    // body and close after a linger.
    reply.raw.once('finish', () => lingerClose(request.raw));
    for (const [k, v] of Object.entries(upstream.headers))
      if (v !== undefined && !HOP_BY_HOP.has(k)) void reply.header(k, v);
    upstream.on('error', () => reply.raw.destroy());
    return reply.send(upstream);
  };
  app.get(routerPattern('exec'), forward('exec'));
  app.post(routerPattern('execKill'), forward('execKill'));
  // HTTP exec: any body type is stdin, streamed, never parsed. Its own plugin scope keeps the
  // catch-all parser away from the JSON routes.
  void app.register((scope, _options, done) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', (_request, payload, done) => done(null, payload));
    scope.post(routerPattern('exec'), { bodyLimit: 1024 ** 4, config: STREAMED_BODY }, forward('exec'));
    // The filesystem API: uploads of any size stream through, JSON bodies are the agent's to parse.
    scope.route({
      method: ['GET', 'HEAD', 'PUT', 'POST', 'DELETE'],
      url: routerPattern('fs'),
      bodyLimit: 1024 ** 4,
      config: STREAMED_BODY,
      handler: forward('fs'),
    });
    // Services (PROTOCOL §11) live in the agent: definitions, supervision, logs and streams.
    for (const route of ['services', 'service', 'serviceAction'] as const) {
      scope.route({
        method: ['GET', 'PUT', 'POST', 'DELETE'],
        url: routerPattern(route),
        bodyLimit: 1024 * 1024,
        config: STREAMED_BODY,
        handler: forward(route),
      });
    }
    done();
  });
}
