import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { buildApp } from './api/index.js';
import { createUpgradeHandler, forwardedInFlight } from './forward/index.js';
import { ADMIN_ORG, type DaemonConfig } from './config.js';
import { randomUUID } from 'node:crypto';
import {
  BackgroundTasks,
  holdInstanceLock,
  HostClaims,
  KeyedMutex,
  raiseSysctls,
  ownHardNofile,
  QuietGate,
  SparePool,
} from './host/index.js';
import {
  ActivityTracker,
  ContainerWatch,
  prepareAgentRuntime,
  RunAllocator,
  SpriteLifecycle,
  SpritePaths,
  ID_RANGE_BASE,
  ID_RANGE_SIZE,
} from './lifecycle/index.js';
import type { Logger } from './log.js';
import { enableForwarding, NftTable, parsePool, SlotFactory, slotCount, spriteResolvConf } from './network/index.js';
import { hashToken, openRegistry, repositories, type Registry } from './registry/index.js';
import { loadRuntime } from './runtime/index.js';
import { BtrfsDriver, DEFAULT_IMAGE_RECIPE, ImageCache } from './storage/index.js';
import { SessionSigner, SpriteUrlRouter } from './url/index.js';
import { DnsProxy, PolicyEnforcer, PolicyService, type Upstream } from './policy/index.js';

/**
 * Where the policy proxy sends allowed queries: SPRITES_DNS_UPSTREAM (host or host:port),
 * else the host's first nameserver (loopback ones work: the daemon runs on the host).
 */
async function dnsUpstream(): Promise<Upstream> {
  const configured = process.env.SPRITES_DNS_UPSTREAM;
  if (configured) {
    const m = /^\[?([^\]]+?)\]?(?::(\d+))?$/.exec(configured);
    if (!m) throw new Error(`SPRITES_DNS_UPSTREAM "${configured}" must be HOST or HOST:PORT`);
    return { host: m[1]!, port: Number(m[2] ?? 53) };
  }
  const text = await readFile('/etc/resolv.conf', 'utf8').catch(() => '');
  const server = /^\s*nameserver\s+(\S+)/m.exec(text)?.[1];
  return { host: server ?? '1.1.1.1', port: 53 };
}

/** File in the data dir holding the API's URL, for clients on this host. */
export const API_URL_FILE = 'api-url';

export interface RunningDaemon {
  url: string;
  adminTokenPath: string;
  /** Stops serving; with stopSprites the running sprites are stopped (disks kept). */
  close(stopSprites: boolean): Promise<void>;
}

/** A client's request line and headers must arrive within this (slow-header clients are cut). */
export const CLIENT_HEADERS_TIMEOUT_MS = 20_000;
/** Headers per request, and their total size, at most (Node's parser answers 431 past them). */
export const CLIENT_MAX_HEADERS = 100;
/** The share of the daemon's file descriptors open client connections may hold. */
export const CLIENT_FD_SHARE = 0.4;

/**
 * Bounds on what a client can make the public server hold: headers must arrive in time and
 * stay few. Bodies are capped per route (JSON) or streamed with backpressure (uploads, exec);
 * a request as a whole has no deadline, since exec streams and uploads may last for hours.
 */
function limitClientRequests(server: import('node:http').Server, nofile: number): void {
  server.headersTimeout = CLIENT_HEADERS_TIMEOUT_MS;
  // Client connections may take at most this share of the daemon's descriptors (a proxied
  // one costs two); the rest stays for agents, sprites' DNS, files and the registry, so a
  // flood of connections is refused at the door instead of breaking everything else.
  server.maxConnections = Math.max(256, Math.floor(nofile * CLIENT_FD_SHARE));
  server.maxHeadersCount = CLIENT_MAX_HEADERS;
  server.requestTimeout = 0;
}

/** The composition root: builds each room once, wires them, owns startup order and shutdown. */
export async function startDaemon(config: DaemonConfig, log: Logger): Promise<RunningDaemon> {
  const t0 = Date.now();
  await mkdir(config.dataDir, { recursive: true, mode: 0o711 });
  await chmod(config.dataDir, 0o711);
  // Before anything on the host is touched: startup reclaim must never see another daemon's state.
  const releaseInstanceLock = await holdInstanceLock(config.instanceId, config.dataDir);
  const pool = parsePool(config.networkPool);

  const storage = new BtrfsDriver({
    imageFile: join(config.dataDir, 'storage', 'pool.img'),
    device: config.poolDevice,
    mountPoint: join(config.dataDir, 'storage', 'pool'),
    sizeBytes: config.poolSizeBytes,
  });
  await mkdir(join(config.dataDir, 'storage'), { recursive: true, mode: 0o700 });
  if (await storage.mount())
    log.info({ room: 'storage' }, `storage pool mounted at ${join(config.dataDir, 'storage', 'pool')}`);

  const images = new ImageCache(config.imageCacheDir);
  const image = await images.ensure(DEFAULT_IMAGE_RECIPE, (line) => log.info({ room: 'storage' }, line));
  await storage.importImage(image.key, image.rootfs, (line) => log.info({ room: 'storage' }, line));

  const registry = repositories(await openRegistry(join(config.dataDir, 'registry.sqlite')));
  const adminTokenPath = await ensureOrgAndAdminToken(registry, config.dataDir, log);

  const runtime = await loadRuntime(config.runtime);
  const paths = new SpritePaths(config.dataDir, config.instanceId);
  // Every sprite's DNS: a proxy on each sprite's gateway address (ADR 0016), the same port on
  // all of them; egress policies (ADR 0015) on top; the nftables side in our table.
  const nftName = new NftTable(config.instanceId, pool.cidr).name;
  const enforcer = new PolicyEnforcer(nftName);
  const policy = new PolicyService({
    registry,
    log: log.child({ room: 'policy' }),
    enforcer,
    upstream: await dnsUpstream(),
    policyDir: (id) => paths.policyDir(id),
  });
  const dnsProxy = new DnsProxy(policy.handleDns);
  const dnsPort = await dnsProxy.choosePort(config.dnsPort);
  const nft = new NftTable(config.instanceId, pool.cidr, dnsPort, config.egressAllow);
  await enableForwarding();
  const tuned = await raiseSysctls();
  if (tuned.raised.length > 0)
    log.info(
      { room: 'host', raised: tuned.raised },
      `raised kernel limits for many sprites: ${tuned.raised.join(', ')}`,
    );
  if (tuned.failed.length > 0)
    log.warn(
      { room: 'host', failed: tuned.failed },
      'could not raise some kernel limits; the host may hold fewer sprites',
    );
  await nft.install();
  if (config.egressAllow.length > 0)
    log.info(
      { room: 'network', egressAllow: config.egressAllow },
      `sprites may reach ${config.egressAllow.join(', ')} besides the public internet`,
    );

  await mkdir(paths.runRoot, { recursive: true, mode: 0o711 });
  const lifecycleLog = log.child({ room: 'lifecycle' });
  const slots = new SlotFactory(config.instanceId, pool, {
    up: (slot) => dnsProxy.addGateway(slot.hostIp, slot.spriteIp),
    down: (slot) => dnsProxy.removeGateway(slot.hostIp),
  });
  const netClaims = new HostClaims(
    config.claimsDir,
    `net-${pool.cidr.replace(/[./]/g, '_')}`,
    config.instanceId,
    slotCount(pool),
  );
  const quiet = new QuietGate();
  const whenQuiet = () => quiet.whenQuiet();
  const spareError = (err: unknown) =>
    lifecycleLog.warn({ err }, 'could not prepare a spare resource; creates make their own');
  const spareVolumes = new SparePool<string>(
    config.spares,
    async () => {
      const name = `spare-${randomUUID()}`;
      await storage.createVolume(name, { fromImage: image.key });
      return name;
    },
    (name) => storage.deleteVolume(name),
    spareError,
    whenQuiet,
  );
  const idClaims = new HostClaims(
    config.claimsDir,
    `ids-${ID_RANGE_BASE}-${ID_RANGE_SIZE}`,
    config.instanceId,
    config.limits.maxSprites,
  );
  const allocator = new RunAllocator(netClaims, idClaims, slots, runtime, paths, lifecycleLog);
  const spareSlots = new SparePool(
    config.spares,
    () => allocator.makeNetwork('spare'),
    (slot) => allocator.retireNetwork(slot.index),
    spareError,
    whenQuiet,
  );
  const background = new BackgroundTasks((what, err) =>
    lifecycleLog.error({ err }, `${what} failed; startup reclaim will retry`),
  );
  const lifecycle = new SpriteLifecycle({
    config,
    registry,
    storage,
    runtime,
    slots,
    allocator,
    spareVolumes,
    spareSlots,
    background,
    quiet,
    activity: new ActivityTracker(),
    idle: { warmAfterMs: config.idleWarmSeconds * 1000, coldAfterMs: config.idleColdSeconds * 1000 },
    watch: new ContainerWatch(),
    agent: await prepareAgentRuntime(config.dataDir),
    resolvConf: await spriteResolvConf(),
    nofile: await ownHardNofile(),
    paths,
    log: lifecycleLog,
    locks: new KeyedMutex(),
    imageKey: image.key,
    policy,
  });
  const summary = await lifecycle.adoptAndReclaim();
  // The table was made afresh: sprites that kept running get their policies back.
  for (const { spriteId, slot } of await lifecycle.runningSlots()) {
    await slots
      .adopt(slot.index)
      .catch((err: unknown) =>
        log.error({ err, spriteId }, "the DNS proxy could not listen on a re-adopted sprite's gateway"),
      );
    await policy
      .attach(spriteId, slot)
      .catch((err: unknown) => log.error({ err, spriteId }, 'could not re-apply a network policy'));
  }
  log.info(
    { event: 'startup.reclaim', ...summary },
    `startup: re-adopted ${summary.adopted} running sprite(s), reclaimed ${JSON.stringify(summary.reclaimed)}`,
  );
  if (summary.errors.length > 0) log.warn({ errors: summary.errors }, 'some leftovers could not be reclaimed');
  // Only after reclaim: spares made earlier would look like leftovers to it.
  spareVolumes.refill();
  spareSlots.refill();
  lifecycle.startPools();
  // The idle policy: a pass every quarter of the warm delay (between 0.25 s and 5 s).
  const sweepEveryMs = Math.min(5000, Math.max(250, (config.idleWarmSeconds * 1000) / 4));
  let sweeping = false;
  const idleTimer = setInterval(() => {
    if (sweeping) return;
    sweeping = true;
    void lifecycle.sweepIdle().finally(() => (sweeping = false));
  }, sweepEveryMs);

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
  app.addHook('preClose', async () => {
    upgrades.closeAll();
    spriteUrls.close();
    dnsProxy.close();
    enforcer.close();
  });
  const address = await app.listen({ host: config.listenHost, port: config.listenPort });
  const bound = app.server.address();
  config.spriteUrlTemplate = config.spriteUrlTemplate.replaceAll(
    '{port}',
    String(typeof bound === 'object' && bound ? bound.port : config.listenPort),
  );
  // Where clients on this host find the API (the `sprite` CLI reads it with admin.token).
  await writeFile(join(config.dataDir, API_URL_FILE), `${address}\n`, { mode: 0o644 });
  log.info(
    { event: 'daemon.ready', url: address, runtime: runtime.info(), durationMs: Date.now() - t0 },
    `spritesd listening on ${address} (runtime ${runtime.info().name} ${runtime.info().version})`,
  );

  let closing: Promise<void> | null = null;
  return {
    url: address,
    adminTokenPath,
    close(stopSprites: boolean) {
      closing ??= (async () => {
        const step = (what: string) => log.info({ event: 'daemon.shutdown', step: what }, `shutdown: ${what}`);
        clearInterval(idleTimer);
        // Requests get a grace period; then their connections are cut (a stalled client
        // must not hold the daemon up).
        const waiting = setInterval(
          () =>
            log.info(
              { event: 'daemon.shutdown', inFlight: forwardedInFlight() },
              'shutdown: waiting for requests to finish',
            ),
          5000,
        );
        const cutOff = setTimeout(() => {
          log.warn(
            { event: 'daemon.shutdown', inFlight: forwardedInFlight() },
            'shutdown: closing connections still open after 15 s',
          );
          app.server.closeAllConnections();
        }, 15_000);
        await app.close().finally(() => {
          clearInterval(waiting);
          clearTimeout(cutOff);
        });
        step('API closed');
        // Pre-booted sprites first: booting one takes spares.
        await lifecycle.closePools();
        await spareVolumes.close();
        await spareSlots.close();
        step('spare pools released');
        const left = await background.drain();
        if (left > 0)
          log.warn(
            { event: 'daemon.shutdown', left },
            `shutdown: ${left} background disk deletion(s) left for the next start to finish`,
          );
        await lifecycle.shutdown(stopSprites, async () => {
          await nft.remove();
          await registry.db.destroy();
          await storage.unmount();
        });
        step('sprites and host state settled');
        await registry.db.destroy().catch(() => undefined);
        releaseInstanceLock();
      })();
      return closing;
    },
  };
}

/**
 * First start: the `default` organization and an admin token in DATA_DIR/admin.token (0600).
 * A lost token file is replaced by a new admin token; the old one stops working.
 */
async function ensureOrgAndAdminToken(registry: Registry, dataDir: string, log: Logger): Promise<string> {
  const org = (await registry.orgs.bySlug(ADMIN_ORG)) ?? (await registry.orgs.create(ADMIN_ORG));
  const tokenPath = join(dataDir, 'admin.token');
  const existing = (await readFile(tokenPath, 'utf8').catch(() => '')).trim();
  if (existing) {
    const grant = await registry.tokens.resolve(existing);
    if (grant?.isAdmin) return tokenPath;
  }
  await registry.tokens.revokeAdmins();
  const token = await registry.tokens.mint(org.id, 'admin token', true);
  await writeFile(tokenPath, `${token}\n`, { mode: 0o600 });
  await chmod(tokenPath, 0o600);
  log.info(
    { tokenPath, tokenHash: hashToken(token).slice(0, 12) },
    `admin token written to ${tokenPath}: use it as "Authorization: Bearer $(cat ${tokenPath})"; it acts for organization "${ADMIN_ORG}" and can create organizations and tokens`,
  );
  return tokenPath;
}
