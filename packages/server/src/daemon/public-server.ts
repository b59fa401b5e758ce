import { readFile } from 'node:fs/promises';
import type { Server } from 'node:http';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../api/index.js';
import type { DaemonConfig } from '../config.js';
import { createUpgradeHandler, forwardedInFlight } from '../forward/index.js';
import { ownHardNofile } from '../host/index.js';
import type { SpriteLifecycle } from '../lifecycle/index.js';
import type { Logger } from '../log.js';
import type { PolicyService } from '../policy/index.js';
import type { Registry } from '../registry/index.js';
import { SessionSigner, SpriteUrlRouter } from '../url/index.js';

/** A client's request line and headers must arrive within this (slow-header clients are cut). */
export const CLIENT_HEADERS_TIMEOUT_MS = 20_000;
/** Headers per request, and their total size, at most (Node's parser answers 431 past them). */
export const CLIENT_MAX_HEADERS = 100;
/** The share of the daemon's file descriptors open client connections may hold. */
export const CLIENT_FD_SHARE = 0.4;
/** On shutdown, requests still open after this long have their connections cut. */
const SHUTDOWN_GRACE_MS = 15_000;
/** ...and meanwhile the log says every this often what it waits for. */
const SHUTDOWN_REPORT_MS = 5000;

/**
 * Bounds on what a client can make the public server hold: headers must arrive in time and
 * stay few. Bodies are capped per route (JSON) or streamed with backpressure (uploads, exec);
 * a request as a whole has no deadline, since exec streams and uploads may last for hours.
 */
function limitClientRequests(server: Server, nofile: number): void {
  server.headersTimeout = CLIENT_HEADERS_TIMEOUT_MS;
  // Client connections may take at most this share of the daemon's descriptors (a proxied
  // one costs two); the rest stays for agents, sprites' DNS, files and the registry, so a
  // flood of connections is refused at the door instead of breaking everything else.
  server.maxConnections = Math.max(256, Math.floor(nofile * CLIENT_FD_SHARE));
  server.maxHeadersCount = CLIENT_MAX_HEADERS;
  server.requestTimeout = 0;
}

export interface PublicServerInput {
  config: DaemonConfig;
  registry: Registry;
  lifecycle: SpriteLifecycle;
  policy: PolicyService;
  /** What else stops taking work the moment the server starts closing (the DNS side). */
  onClosing(): void;
}

export interface PublicServer {
  url: string;
  /** Stops taking requests; open ones get a grace period, then their connections are cut. */
  close(): Promise<void>;
}

/**
 * The one public server: the API, the per-sprite endpoints forwarded to agents (HTTP and
 * WebSocket), and sprite URLs by Host. Listens, and fills the real port into the URL template.
 */
export async function servePublic(input: PublicServerInput, log: Logger): Promise<PublicServer> {
  const { config, registry, lifecycle, policy } = input;
  const spriteUrls = new SpriteUrlRouter({
    registry,
    lifecycle,
    log: log.child({ room: 'url' }),
    domain: config.urlDomain,
    signer: new SessionSigner(config.dataDir),
    secure: config.tls !== null,
    targetCacheMs: Math.min(2000, config.idleWarmSeconds * 250),
  });
  const https = config.tls
    ? { cert: await readFile(config.tls.certFile), key: await readFile(config.tls.keyFile) }
    : undefined;
  const app: FastifyInstance = buildApp({ config, registry, lifecycle, log, spriteUrls, https, policy });
  limitClientRequests(app.server, await ownHardNofile());
  const upgrades = createUpgradeHandler({ registry, lifecycle, log: log.child({ room: 'forward' }), spriteUrls });
  app.server.on('upgrade', upgrades.handle);
  app.addHook('preClose', (done) => {
    upgrades.closeAll();
    spriteUrls.close();
    input.onClosing();
    done();
  });
  const url = await app.listen({ host: config.listenHost, port: config.listenPort });
  const bound = app.server.address();
  config.spriteUrlTemplate = config.spriteUrlTemplate.replaceAll(
    '{port}',
    String(typeof bound === 'object' && bound ? bound.port : config.listenPort),
  );
  return { url, close: () => closeGracefully(app, log) };
}

/** Closes the server; a stalled client must not hold the daemon up past the grace period. */
async function closeGracefully(app: FastifyInstance, log: Logger): Promise<void> {
  const waiting = setInterval(
    () =>
      log.info({ event: 'daemon.shutdown', inFlight: forwardedInFlight() }, 'shutdown: waiting for requests to finish'),
    SHUTDOWN_REPORT_MS,
  );
  const cutOff = setTimeout(() => {
    log.warn(
      { event: 'daemon.shutdown', inFlight: forwardedInFlight() },
      'shutdown: closing connections still open after 15 s',
    );
    app.server.closeAllConnections();
  }, SHUTDOWN_GRACE_MS);
  await app.close().finally(() => {
    clearInterval(waiting);
    clearTimeout(cutOff);
  });
}
