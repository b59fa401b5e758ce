import {
  Agent,
  request as httpRequest,
  type IncomingMessage,
  type OutgoingHttpHeaders,
  type ServerResponse,
} from 'node:http';
import { connect, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { SpriteError } from '@sprites/protocol';
import { lingerClose, rejectUpgrade, tokenFrom } from '../access/index.js';
import { BodyTooLargeError, DeadlineError, readBounded, splice } from '../io/index.js';
import type { SpriteLifecycle } from '../lifecycle/index.js';
import { loggablePath, type Logger } from '../log.js';
import type { Registry, SpriteRecord } from '../registry/index.js';
import { LOGIN_PATH, loginPage, safeNext, SESSION_COOKIE, SESSION_SECONDS, type SessionSigner } from './auth.js';
import { cookieValue, hostOnlySetCookies, withoutCookie } from './cookies.js';
import { errorAnswer, UrlError } from './errors.js';
import { SpriteHosts, spriteLabel } from './hosts.js';
import { askAgentForTarget, TargetCache, type Target } from './target.js';

export interface UrlRouterDeps {
  registry: Registry;
  lifecycle: SpriteLifecycle;
  log: Logger;
  /** Sprite URLs are `<name>-<org>.<domain>`. */
  domain: string;
  signer: SessionSigner;
  /** Served over TLS: cookies get `Secure`, forwarded requests `X-Forwarded-Proto: https`. */
  secure: boolean;
  /** How long an answer about where a sprite's HTTP goes is reused; well below the idle time. */
  targetCacheMs: number;
}

/** How long a connection to a just-woken sprite or just-started service is retried. */
const STARTUP_RETRY_MS = 15_000;
/** How long one TCP connect to a sprite's app may take (a sprite that drops SYNs must not hang us). */
export const APP_CONNECT_TIMEOUT_MS = 10_000;
/** A proxied connection (HTTP or WebSocket) with no bytes either way for this long is closed. */
export const APP_IDLE_TIMEOUT_MS = 10 * 60_000;
/** The login form: its size and how long it may take to arrive. */
const LOGIN_FORM_MAX_BYTES = 16 * 1024;
const LOGIN_FORM_DEADLINE_MS = 10_000;
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
 * The sprite URL: requests to `<name>-<org>.<domain>` go to the sprite's `http_port`
 * service (started if it is not running), else to port 8080, over HTTP or WebSocket. A
 * request wakes the sprite. `url_settings.auth` = `sprite` asks for the organization's token
 * (Bearer, or a login cookie); `public` asks for nothing.
 */
export class SpriteUrlRouter {
  private readonly hosts: SpriteHosts;
  private readonly upstream = new Agent({ keepAlive: true, maxSockets: Infinity, keepAliveMsecs: 1000 });
  private readonly targets: TargetCache;

  constructor(private readonly deps: UrlRouterDeps) {
    this.hosts = new SpriteHosts(deps.registry);
    this.targets = new TargetCache(deps.targetCacheMs);
  }

  /** Whether a request is for a sprite URL rather than the API. */
  matches(host: string | undefined): boolean {
    return spriteLabel(host, this.deps.domain) !== null;
  }

  close(): void {
    this.upstream.destroy();
  }

  /** Forgets a sprite's cached lookup and target (its settings changed, or it is gone). */
  forget(spriteId: string): void {
    this.hosts.forget(spriteId);
    this.targets.delete(spriteId);
  }

  async handleRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      const sprite = await this.sprite(req);
      const path = (req.url ?? '/').split('?')[0];
      if (path === LOGIN_PATH) return await this.login(req, res, sprite);
      const auth = await this.authorize(req, sprite);
      if (!auth) {
        const wantsHtml = req.method === 'GET' && /text\/html/.test(req.headers.accept ?? '');
        if (wantsHtml) {
          res
            .writeHead(302, {
              location: `${LOGIN_PATH}?next=${encodeURIComponent(req.url ?? '/')}`,
              'cache-control': 'no-store',
            })
            .end();
          return;
        }
        throw new UrlError(
          401,
          `sprite ${sprite.name} is private to its organization: send "Authorization: Bearer <token>" or log in at ${LOGIN_PATH}`,
        );
      }
      await this.forward(req, res, sprite);
    } catch (e) {
      this.fail(req, res, e);
    }
  }

  async handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    socket.on('error', () => undefined);
    try {
      const sprite = await this.sprite(req);
      if (!(await this.authorize(req, sprite)))
        throw new UrlError(401, `sprite ${sprite.name} is private to its organization`);
      let target = await this.target(sprite);
      const upstream = await this.dial(target, target.retry).catch(async (e: unknown) => {
        if (!(e instanceof UrlError && /ECONNREFUSED/.test(e.message))) throw e;
        this.targets.delete(sprite.id);
        target = await this.target(sprite);
        return this.dial(target, true);
      });
      if (socket.destroyed) return void upstream.destroy();
      this.deps.lifecycle.connectionOpened(sprite.id);
      socket.once('close', () => this.deps.lifecycle.connectionClosed(sprite.id));
      const lines = [`${req.method ?? 'GET'} ${req.url ?? '/'} HTTP/1.1`];
      for (const [k, v] of Object.entries(this.requestHeaders(req, true))) {
        for (const value of Array.isArray(v) ? v : [v]) if (value !== undefined) lines.push(`${k}: ${value}`);
      }
      upstream.write(`${lines.join('\r\n')}\r\n\r\n`);
      if (head.length > 0) upstream.write(head);
      upstream.setTimeout(APP_IDLE_TIMEOUT_MS, () => upstream.destroy());
      splice(socket, upstream);
    } catch (e) {
      if (!(e instanceof UrlError || e instanceof SpriteError))
        this.deps.log.warn({ err: e, path: loggablePath(req.url) }, 'sprite URL upgrade failed');
      const { status, body } = errorAnswer(e);
      rejectUpgrade(socket, status, body);
    }
  }

  private async sprite(req: IncomingMessage): Promise<SpriteRecord> {
    const label = spriteLabel(req.headers.host, this.deps.domain);
    const found = label ? await this.hosts.find(label) : null;
    if (!found)
      throw new UrlError(
        404,
        `no sprite answers at ${String(req.headers.host ?? '?').slice(0, 300)}: the URL is <sprite>-<organization>.${this.deps.domain}`,
      );
    return found.sprite;
  }

  /** Public, or a token (header) or login cookie of the sprite's organization. */
  private async authorize(req: IncomingMessage, sprite: SpriteRecord): Promise<boolean> {
    if (sprite.urlSettings.auth === 'public') return true;
    const token = tokenFrom(req.headers.authorization);
    if (token) {
      const grant = await this.deps.registry.tokens.resolve(token);
      if (grant?.orgId === sprite.orgId) return true;
    }
    const cookie = cookieValue(req.headers.cookie, SESSION_COOKIE);
    return cookie !== null && this.deps.signer.verify(cookie) === sprite.orgId;
  }

  private async login(req: IncomingMessage, res: ServerResponse, sprite: SpriteRecord): Promise<void> {
    const html = (status: number, body: string) =>
      res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' }).end(body);
    const query = new URL(req.url ?? '/', 'http://x').searchParams;
    if (req.method === 'GET') return void html(200, loginPage(sprite.name, safeNext(query.get('next'))));
    if (req.method !== 'POST') throw new UrlError(405, `${LOGIN_PATH} takes GET or POST`);
    let text: string;
    try {
      text = (await readBounded(req, { limit: LOGIN_FORM_MAX_BYTES, deadlineMs: LOGIN_FORM_DEADLINE_MS })).toString(
        'utf8',
      );
    } catch (e) {
      if (e instanceof BodyTooLargeError)
        throw new UrlError(413, `the login form is larger than ${LOGIN_FORM_MAX_BYTES} bytes`);
      if (e instanceof DeadlineError)
        throw new UrlError(400, `the login form did not arrive within ${LOGIN_FORM_DEADLINE_MS} ms`);
      throw new UrlError(400, 'the login form could not be read');
    }
    const form = new URLSearchParams(text);
    const next = safeNext(form.get('next'));
    const grant = await this.deps.registry.tokens.resolve(form.get('token')?.trim() ?? '');
    if (!grant || grant.orgId !== sprite.orgId)
      return void html(401, loginPage(sprite.name, next, "That token does not belong to this sprite's organization."));
    const cookie = `${SESSION_COOKIE}=${this.deps.signer.issue(sprite.orgId)}; Path=/; Max-Age=${SESSION_SECONDS}; HttpOnly; SameSite=Lax${this.deps.secure ? '; Secure' : ''}`;
    res.writeHead(303, { location: next, 'set-cookie': cookie, 'cache-control': 'no-store' }).end();
  }

  /**
   * Wakes the sprite and asks its agent where HTTP goes. A sprite that answered moments ago
   * is still awake (idling takes far longer), so then the last answer for its current run is
   * used as is. A stale answer fails the connection, which drops it and takes the slow path.
   */
  private async target(sprite: SpriteRecord): Promise<Target & { retry: boolean }> {
    // The run id from memory when the lifecycle knows it (no registry read on the hot path).
    const runId = this.deps.lifecycle.knownRunId(sprite.id) ?? (await this.deps.lifecycle.currentRun(sprite.id))?.runId;
    const recent = runId ? this.targets.get(sprite.id, runId) : null;
    if (recent) {
      this.deps.lifecycle.touch(sprite.id);
      return { ...recent, retry: false };
    }
    // A warm sprite thaws with its apps listening; a cold one boots, and its app needs a moment.
    const wasRunning = runId !== undefined;
    await this.deps.lifecycle.ensureRunning(sprite.id);
    const now = await this.deps.lifecycle.currentRun(sprite.id);
    if (!now) throw new UrlError(503, `sprite ${sprite.name} is not running; retry in a moment`);
    let answer: { port: number; started: boolean };
    try {
      answer = await askAgentForTarget(this.deps.lifecycle.agentSocket(sprite.id));
    } catch (e) {
      if (e instanceof DeadlineError)
        throw new UrlError(504, `the agent of sprite ${sprite.name} did not answer in time; retry in a moment`);
      throw new UrlError(
        502,
        `the agent of sprite ${sprite.name} did not answer (${(e as Error).message}); retry in a moment`,
      );
    }
    const target: Target = { runId: now.runId, address: now.address, port: answer.port };
    this.targets.set(sprite.id, target);
    return { ...target, retry: answer.started || !wasRunning };
  }

  /** Connects, retrying refusals for a while when the service is only now starting. */
  private async dial(target: Target, retry: boolean): Promise<Socket> {
    const { address, port } = target;
    const deadline = Date.now() + (retry ? STARTUP_RETRY_MS : 0);
    for (;;) {
      try {
        return await new Promise<Socket>((resolve, reject) => {
          const s = connect({ host: address, port });
          const timer = setTimeout(
            () => s.destroy(Object.assign(new Error('connect timed out'), { code: 'ETIMEDOUT' })),
            APP_CONNECT_TIMEOUT_MS,
          );
          s.once('connect', () => {
            clearTimeout(timer);
            resolve(s);
          });
          s.once('error', (e) => {
            clearTimeout(timer);
            reject(e);
          });
        });
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'ETIMEDOUT')
          throw new UrlError(
            504,
            `the sprite did not accept a connection on port ${port} within ${APP_CONNECT_TIMEOUT_MS} ms`,
          );
        if (code !== 'ECONNREFUSED' || Date.now() >= deadline) {
          throw new UrlError(
            502,
            `nothing answers on port ${port} in the sprite (${code ?? String(e)}); run your app on 0.0.0.0:${port}, or create a service with http_port`,
          );
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }

  private requestHeaders(req: IncomingMessage, upgrade: boolean): OutgoingHttpHeaders {
    const out: OutgoingHttpHeaders = {};
    for (const [k, v] of Object.entries(req.headers)) {
      if (v === undefined) continue;
      if (!upgrade && HOP_BY_HOP.has(k)) continue;
      if (k === 'authorization' && tokenFrom(typeof v === 'string' ? v : undefined)) continue;
      if (k === 'cookie') {
        const rest = withoutCookie(typeof v === 'string' ? v : v.join('; '), SESSION_COOKIE);
        if (rest) out.cookie = rest;
        continue;
      }
      out[k] = v;
    }
    const client = req.socket.remoteAddress ?? '';
    out['x-forwarded-for'] = req.headers['x-forwarded-for']
      ? `${String(req.headers['x-forwarded-for'])}, ${client}`
      : client;
    out['x-forwarded-host'] = req.headers.host ?? '';
    out['x-forwarded-proto'] = this.deps.secure ? 'https' : 'http';
    return out;
  }

  private async forward(req: IncomingMessage, res: ServerResponse, sprite: SpriteRecord): Promise<void> {
    let target = await this.target(sprite);
    // A sprite that was just woken or a service just started gets a moment to listen.
    if (target.retry) (await this.dial(target, true)).destroy();
    this.deps.lifecycle.connectionOpened(sprite.id);
    res.once('close', () => this.deps.lifecycle.connectionClosed(sprite.id));
    const bodiless =
      req.headers['content-length'] === undefined || req.headers['content-length'] === '0'
        ? req.headers['transfer-encoding'] === undefined
        : false;
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.send(req, res, sprite, target);
      } catch (e) {
        // The cached port may belong to a service stopped since: ask the agent again (which
        // starts an http_port service) and retry once, if nothing of the body is lost.
        const refused = e instanceof UrlError && e.status === 502 && /ECONNREFUSED/.test(e.message);
        if (!refused || attempt > 0 || !bodiless) throw e;
        this.targets.delete(sprite.id);
        target = await this.target(sprite);
        (await this.dial(target, true)).destroy();
      }
    }
  }

  private send(req: IncomingMessage, res: ServerResponse, sprite: SpriteRecord, target: Target): Promise<void> {
    const { address, port } = target;
    return new Promise<void>((resolve, reject) => {
      const upstream = httpRequest(
        {
          host: address,
          port,
          method: req.method,
          path: req.url,
          headers: this.requestHeaders(req, false),
          agent: this.upstream,
        },
        (answer) => {
          const headers: OutgoingHttpHeaders = {};
          for (const [k, v] of Object.entries(answer.headers))
            if (v !== undefined && k !== 'connection' && k !== 'keep-alive' && k !== 'set-cookie') headers[k] = v;
          const cookies = hostOnlySetCookies(answer.headers['set-cookie'], SESSION_COOKIE);
          if (cookies.length > 0) headers['set-cookie'] = cookies;
          try {
            res.writeHead(answer.statusCode ?? 502, answer.statusMessage, headers);
          } catch {
            // Headers Node refuses to send (invalid characters from the app): answer 502.
            answer.destroy();
            return reject(new UrlError(502, `the app in sprite ${sprite.name} sent headers that cannot be forwarded`));
          }
          answer.pipe(res);
          answer.once('end', resolve);
          answer.once('error', reject);
        },
      );
      upstream.setTimeout(APP_IDLE_TIMEOUT_MS, () =>
        upstream.destroy(Object.assign(new Error('idle'), { code: 'ETIMEDOUT' })),
      );
      upstream.once('error', (e: NodeJS.ErrnoException) => {
        this.targets.delete(sprite.id);
        if (e.code === 'ETIMEDOUT')
          return reject(
            new UrlError(
              504,
              `the app in sprite ${sprite.name} on port ${port} did not answer within ${APP_IDLE_TIMEOUT_MS / 1000} s`,
            ),
          );
        reject(
          new UrlError(502, `the app in sprite ${sprite.name} on port ${port} did not answer (${e.code ?? e.message})`),
        );
      });
      res.once('close', () => upstream.destroy());
      // Small requests and answers must not wait for delayed ACKs (Nagle): 40 ms each.
      upstream.setNoDelay(true);
      req.socket.setNoDelay(true);
      req.pipe(upstream);
    });
  }

  private fail(req: IncomingMessage, res: ServerResponse, e: unknown): void {
    if (!(e instanceof UrlError || e instanceof SpriteError))
      this.deps.log.warn({ err: e, path: loggablePath(req.url) }, 'sprite URL request failed');
    if (res.headersSent) return void res.destroy();
    const { status, body } = errorAnswer(e);
    const text = JSON.stringify(body);
    res
      .writeHead(status, {
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(text),
        'cache-control': 'no-store',
      })
      .end(text);
    // An unread body (a refused upload) is drained for a moment, then the connection closed.
    if (!req.complete) lingerClose(req);
  }
}
