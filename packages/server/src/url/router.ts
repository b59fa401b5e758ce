import { Agent, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { SpriteLifecycle } from '../lifecycle/index.js';
import type { Logger } from '../log.js';
import type { Registry, SpriteRecord } from '../registry/index.js';
import { mayReach } from './authorize.js';
import { failRequest, failUpgrade } from './errors.js';
import { SpriteHosts } from './hosts.js';
import { answerLogin, readLoginForm } from './login.js';
import { proxyHttp, type ProxyDeps } from './proxy-http.js';
import { proxyUpgrade } from './proxy-upgrade.js';
import { noSpriteAt, routeRequest, routeUpgrade, spriteLabel } from './route.js';
import type { SessionSigner } from './session.js';
import { SpriteTargets } from './targets.js';

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

/**
 * The sprite URL: requests to `<name>-<org>.<domain>` go to the sprite's `http_port`
 * service (started if it is not running), else to port 8080, over HTTP or WebSocket. A
 * request wakes the sprite. `url_settings.auth` = `sprite` asks for the organization's token
 * (Bearer, or a login cookie); `public` asks for nothing.
 *
 * This class only puts the steps together: route.ts decides, authorize.ts and login.ts check
 * who calls, targets.ts finds where the app listens, proxy-http.ts and proxy-upgrade.ts carry
 * the bytes, errors.ts answers failures.
 */
export class SpriteUrlRouter {
  private readonly hosts: SpriteHosts;
  private readonly targets: SpriteTargets;
  private readonly upstream = new Agent({ keepAlive: true, maxSockets: Infinity, keepAliveMsecs: 1000 });
  private readonly proxy: ProxyDeps & { upstream: Agent };

  constructor(private readonly deps: UrlRouterDeps) {
    this.hosts = new SpriteHosts(deps.registry);
    this.targets = new SpriteTargets(deps.lifecycle, deps.targetCacheMs);
    this.proxy = { lifecycle: deps.lifecycle, targets: this.targets, secure: deps.secure, upstream: this.upstream };
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
    this.targets.forget(spriteId);
  }

  async handleRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      const sprite = await this.sprite(req);
      const head = { method: req.method, url: req.url, accept: req.headers.accept };
      const route = await routeRequest(head, sprite.name, () => this.allowed(req, sprite));
      switch (route.kind) {
        case 'login':
          return await this.login(req, res, sprite);
        case 'redirect':
          res.writeHead(302, { location: route.location, 'cache-control': 'no-store' }).end();
          return;
        case 'refuse':
          throw route.error;
        case 'proxy':
          return await proxyHttp(this.proxy, req, res, sprite);
      }
    } catch (e) {
      failRequest(req, res, e, this.deps.log);
    }
  }

  async handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    socket.on('error', () => undefined);
    try {
      const sprite = await this.sprite(req);
      const route = await routeUpgrade(sprite.name, () => this.allowed(req, sprite));
      if (route.kind === 'refuse') throw route.error;
      await proxyUpgrade(this.proxy, req, socket, head, sprite);
    } catch (e) {
      failUpgrade(req, socket, e, this.deps.log);
    }
  }

  /** The sprite the Host names, or a 404. */
  private async sprite(req: IncomingMessage): Promise<SpriteRecord> {
    const label = spriteLabel(req.headers.host, this.deps.domain);
    const found = label ? await this.hosts.find(label) : null;
    if (!found) throw noSpriteAt(req.headers.host, this.deps.domain);
    return found.sprite;
  }

  private allowed(req: IncomingMessage, sprite: SpriteRecord): Promise<boolean> {
    return mayReach(sprite, { authorization: req.headers.authorization, cookie: req.headers.cookie }, this.auth);
  }

  private async login(req: IncomingMessage, res: ServerResponse, sprite: SpriteRecord): Promise<void> {
    const answer = await answerLogin(req, () => readLoginForm(req), sprite, {
      ...this.auth,
      issueSession: (orgId) => this.deps.signer.issue(orgId),
      secure: this.deps.secure,
    });
    if (answer.status === 303) {
      res.writeHead(303, { location: answer.location, 'set-cookie': answer.cookie, 'cache-control': 'no-store' }).end();
      return;
    }
    res
      .writeHead(answer.status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' })
      .end(answer.html);
  }

  private readonly auth = {
    tokenOrg: async (token: string) => (await this.deps.registry.tokens.resolve(token))?.orgId ?? null,
    sessionOrg: (cookie: string) => this.deps.signer.verify(cookie),
  };
}
