import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { canonicalCidr } from './network/index.js';

/**
 * Limits of one organization (ADR 0023): sprites it may have; live (running or warm) sprites
 * at once; the sum of its live sprites' `ram_mb`; the sum of all its sprites' `storage_gb`.
 */
export interface OrgLimits {
  sprites: number;
  running: number;
  memoryMb: number;
  storageGb: number;
}

/** The organization the admin token acts for; it gets `orgLimits.admin` by default. */
export const ADMIN_ORG = 'default';

/** The largest limit value: it fits a 32-bit signed integer, which every client can hold. */
export const MAX_LIMIT_VALUE = 2 ** 31 - 1;

/** Everything a daemon needs to know about its host and its defaults. */
export interface DaemonConfig {
  dataDir: string;
  listenHost: string;
  listenPort: number;
  /** Short id carried by every host-global name (netns, veth, nft table, cgroups, containers). */
  instanceId: string;
  /** Host-wide cache of built base images, shared by every daemon on the host. */
  imageCacheDir: string;
  /** Host-wide directory of numbered claims (network slots, uid ranges). */
  claimsDir: string;
  runtime: 'crun' | 'runc';
  networkPool: string;
  poolSizeBytes: number;
  poolDevice?: string;
  /**
   * Free space the pool keeps: creates and checkpoints are refused (507) below it. null: the
   * default, 5% of the pool but at most 1 GiB (ADR 0024).
   */
  poolReserveBytes: number | null;
  stopSpritesOnExit: boolean;
  /** Ready-made volumes and network namespaces kept for fast creates. */
  spares: number;
  /** Sprites booted ahead of time, handed out by create. */
  prebooted: number;
  /** Creates worked on at once; more wait, served round-robin by organization (host/fair-gate.ts). */
  createConcurrency: number;
  /** Quiet seconds before a sprite goes warm (frozen) and cold (stopped). */
  idleWarmSeconds: number;
  idleColdSeconds: number;
  /** Public base URL of sprite URLs; `{name}` and `{org}` are substituted. */
  spriteUrlTemplate: string;
  /** Port of the DNS proxy on every sprite's gateway address (0: any free one). */
  dnsPort: number;
  /** IPv4 CIDRs sprites may reach although they are not public (ADR 0016); canonical form. */
  egressAllow: string[];
  /** Sprite URLs are `<name>-<org>.<urlDomain>` on the API's port. */
  urlDomain: string;
  /** PEM files: the API and sprite URLs are served over HTTPS. */
  tls: { certFile: string; keyFile: string } | null;
  defaults: { ramMb: number; cpus: number; storageGb: number; region: string };
  limits: { maxRamMb: number; maxCpus: number; maxStorageGb: number; pidsPerSprite: number; maxSprites: number };
  /** Default limits per organization, until the admin sets others through the API. */
  orgLimits: { tenant: OrgLimits; admin: OrgLimits };
  logLevel: string;
}

export const HELP = `spritesd: the Sprites host daemon

Usage: spritesd [options]

Options:
  --data-dir DIR        where the registry, storage pool and admin token live
                        (env SPRITES_DATA_DIR, default /var/lib/sprites)
  --listen HOST:PORT    address of the HTTP API (env SPRITES_LISTEN, default 127.0.0.1:7070;
                        port 0 picks a free port)
  --instance ID         1-6 lowercase letters or digits naming this daemon's host resources
                        (env SPRITES_INSTANCE, default "main")
  --runtime NAME        OCI runtime: crun or runc (env SPRITES_RUNTIME, default crun)
  --network-pool CIDR   addresses for sprites, one /30 each (env SPRITES_NETWORK_POOL,
                        default 10.213.0.0/16)
  --pool-size SIZE      size of the sparse btrfs pool file on first start, e.g. 64G
                        (env SPRITES_POOL_SIZE, default 64G)
  --pool-device DEV     use a block device for the pool instead of a loop file
  --pool-reserve SIZE   free space kept in the pool: below it new sprites and checkpoints
                        are refused with 507 (env SPRITES_POOL_RESERVE; default 5% of the
                        pool, at most 1G; 0 turns the check off)
  --image-cache DIR     host-wide base image cache (env SPRITES_IMAGE_CACHE,
                        default /var/cache/sprites/images)
  --egress-allow CIDR   let sprites reach this IPv4 range although it is private, link-local,
                        CGNAT, reserved or in the network pool (repeatable; env
                        SPRITES_EGRESS_ALLOW, comma-separated; default: none)
  --org-limits LIST     default limits of every organization but "default", as
                        sprites=N,running=N,memory_mb=N,storage_gb=N (env SPRITES_ORG_LIMITS;
                        default sprites=50,running=10,memory_mb=20480,storage_gb=1000)
  --admin-org-limits LIST  the same for the organization "default" (env
                        SPRITES_ADMIN_ORG_LIMITS; default: the host's own bounds, see docs)
  --stop-sprites        stop running sprites when the daemon exits (their disks are kept);
                        without it they keep running and the next start re-adopts them
  --help                show this help

On first start the daemon creates the data dir, the storage pool, the base image, the
organization "default" and an admin token in DATA_DIR/admin.token.
`;

export class ConfigError extends Error {}

export function parseSize(text: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([KMGT]?)i?B?$/i.exec(text.trim());
  if (!m) throw new ConfigError(`size "${text}" is not a size such as 64G or 512M`);
  const units: Record<string, number> = { '': 1, K: 2 ** 10, M: 2 ** 20, G: 2 ** 30, T: 2 ** 40 };
  return Math.round(Number(m[1]) * (units[(m[2] ?? '').toUpperCase()] ?? 1));
}

function parseListen(text: string): { host: string; port: number } {
  const m = /^(.*):(\d+)$/.exec(text.trim());
  if (!m) throw new ConfigError(`listen address "${text}" must be HOST:PORT, e.g. 127.0.0.1:7070`);
  const port = Number(m[2]);
  if (port > 65535) throw new ConfigError(`port ${port} is out of range`);
  return { host: (m[1] ?? '').replace(/^\[(.*)\]$/, '$1') || '127.0.0.1', port };
}

function poolReserve(text: string | undefined): number | null {
  if (text === undefined || text.trim() === '') return null;
  return parseSize(text);
}

/** The pool's reserve in bytes: as configured, else 5% of the pool and at most 1 GiB. */
export function poolReserveOf(config: Pick<DaemonConfig, 'poolReserveBytes'>, poolTotalBytes: number): number {
  return config.poolReserveBytes ?? Math.min(2 ** 30, Math.floor(poolTotalBytes * 0.05));
}

/** Canonical, de-duplicated IPv4 CIDRs; empty entries (a trailing comma) are ignored. */
function parseEgressAllow(entries: string[]): string[] {
  const out = new Set<string>();
  for (const entry of entries.map((e) => e.trim()).filter(Boolean)) {
    try {
      out.add(canonicalCidr(entry));
    } catch (e) {
      throw new ConfigError(`--egress-allow: ${(e as Error).message}`);
    }
  }
  return [...out];
}

const ORG_LIMIT_KEYS: Record<string, keyof OrgLimits> = {
  sprites: 'sprites',
  running: 'running',
  memory_mb: 'memoryMb',
  storage_gb: 'storageGb',
};

/**
 * `sprites=50,running=10,memory_mb=20480,storage_gb=1000` over `base`: keys not named keep
 * their value from `base`. Each value is an integer from 0 to MAX_LIMIT_VALUE.
 */
export function parseOrgLimits(text: string, base: OrgLimits, what: string): OrgLimits {
  const out = { ...base };
  for (const entry of text
    .split(',')
    .map((e) => e.trim())
    .filter(Boolean)) {
    const m = /^([a-z_]+)\s*=\s*(\d{1,10})$/.exec(entry);
    const key = m ? ORG_LIMIT_KEYS[m[1]!] : undefined;
    if (!m || !key)
      throw new ConfigError(
        `${what}: "${entry}" must be one of ${Object.keys(ORG_LIMIT_KEYS).join(', ')} = an integer, e.g. running=10`,
      );
    const value = Number(m[2]);
    if (value > MAX_LIMIT_VALUE) throw new ConfigError(`${what}: ${m[1]} must be at most ${MAX_LIMIT_VALUE}`);
    out[key] = value;
  }
  return out;
}

/** Reads flags, then environment, then embedded defaults. Throws ConfigError with what to fix. */
export function loadConfig(argv: string[], env: NodeJS.ProcessEnv = process.env): DaemonConfig | 'help' {
  const { values } = parseArgs({
    args: argv,
    options: {
      'data-dir': { type: 'string' },
      listen: { type: 'string' },
      instance: { type: 'string' },
      runtime: { type: 'string' },
      'network-pool': { type: 'string' },
      'pool-size': { type: 'string' },
      'pool-device': { type: 'string' },
      'pool-reserve': { type: 'string' },
      'image-cache': { type: 'string' },
      'stop-sprites': { type: 'boolean' },
      'org-limits': { type: 'string' },
      'admin-org-limits': { type: 'string' },
      'egress-allow': { type: 'string', multiple: true },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) return 'help';
  const listen = parseListen(values.listen ?? env.SPRITES_LISTEN ?? '127.0.0.1:7070');
  const instanceId = values.instance ?? env.SPRITES_INSTANCE ?? 'main';
  if (!/^[a-z0-9]{1,6}$/.test(instanceId)) {
    throw new ConfigError(
      `instance id "${instanceId}" must be 1-6 lowercase letters or digits (it goes into 15-byte interface names)`,
    );
  }
  const runtime = values.runtime ?? env.SPRITES_RUNTIME ?? 'crun';
  const urlDomain = (env.SPRITES_URL_DOMAIN ?? 'sprites.localhost').toLowerCase();
  if (!/^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$/.test(urlDomain))
    throw new ConfigError(`SPRITES_URL_DOMAIN "${urlDomain}" must be a DNS name such as sprites.localhost`);
  const tlsCert = env.SPRITES_TLS_CERT;
  const tlsKey = env.SPRITES_TLS_KEY;
  if (Boolean(tlsCert) !== Boolean(tlsKey))
    throw new ConfigError('TLS needs both SPRITES_TLS_CERT and SPRITES_TLS_KEY (PEM files)');
  if (runtime !== 'crun' && runtime !== 'runc') throw new ConfigError(`runtime "${runtime}" must be crun or runc`);
  const egressAllow = parseEgressAllow(values['egress-allow'] ?? (env.SPRITES_EGRESS_ALLOW ?? '').split(/[\s,]+/));
  const limits = {
    maxRamMb: Number(env.SPRITES_MAX_RAM_MB ?? 16384),
    maxCpus: Number(env.SPRITES_MAX_CPUS ?? 8),
    maxStorageGb: Number(env.SPRITES_MAX_STORAGE_GB ?? 1024),
    pidsPerSprite: Number(env.SPRITES_PIDS_PER_SPRITE ?? 2048),
    maxSprites: Number(env.SPRITES_MAX_SPRITES ?? 4096),
  };
  return {
    dataDir: values['data-dir'] ?? env.SPRITES_DATA_DIR ?? '/var/lib/sprites',
    listenHost: listen.host,
    listenPort: listen.port,
    instanceId,
    imageCacheDir: values['image-cache'] ?? env.SPRITES_IMAGE_CACHE ?? '/var/cache/sprites/images',
    claimsDir: env.SPRITES_CLAIMS_DIR ?? '/run/sprites/claims',
    runtime,
    networkPool: values['network-pool'] ?? env.SPRITES_NETWORK_POOL ?? '10.213.0.0/16',
    poolSizeBytes: parseSize(values['pool-size'] ?? env.SPRITES_POOL_SIZE ?? '64G'),
    poolDevice: values['pool-device'] ?? env.SPRITES_POOL_DEVICE,
    poolReserveBytes: poolReserve(values['pool-reserve'] ?? env.SPRITES_POOL_RESERVE),
    stopSpritesOnExit: values['stop-sprites'] ?? env.SPRITES_STOP_SPRITES === '1',
    spares: Number(env.SPRITES_SPARES ?? 2),
    prebooted: Number(env.SPRITES_PREBOOTED ?? 2),
    createConcurrency: positiveInt(
      env.SPRITES_CREATE_CONCURRENCY,
      Math.max(2, 2 * availableParallelism()),
      'SPRITES_CREATE_CONCURRENCY',
    ),
    idleWarmSeconds: Number(env.SPRITES_IDLE_WARM_SECONDS ?? 30),
    idleColdSeconds: Number(env.SPRITES_IDLE_COLD_SECONDS ?? 600),
    urlDomain,
    dnsPort: Number(env.SPRITES_DNS_PORT ?? 0),
    egressAllow,
    tls: tlsCert && tlsKey ? { certFile: tlsCert, keyFile: tlsKey } : null,
    // {port} is the port actually bound (it may be 0 here), filled in once listening.
    spriteUrlTemplate: env.SPRITES_URL_TEMPLATE ?? `${tlsCert ? 'https' : 'http'}://{name}-{org}.${urlDomain}:{port}`,
    defaults: {
      ramMb: Number(env.SPRITES_DEFAULT_RAM_MB ?? 2048),
      cpus: Number(env.SPRITES_DEFAULT_CPUS ?? 2),
      storageGb: Number(env.SPRITES_DEFAULT_STORAGE_GB ?? 20),
      region: env.SPRITES_REGION ?? 'local',
    },
    limits,
    orgLimits: {
      tenant: parseOrgLimits(values['org-limits'] ?? env.SPRITES_ORG_LIMITS ?? '', TENANT_ORG_LIMITS, '--org-limits'),
      admin: parseOrgLimits(
        values['admin-org-limits'] ?? env.SPRITES_ADMIN_ORG_LIMITS ?? '',
        hostOrgLimits(limits),
        '--admin-org-limits',
      ),
    },
    logLevel: env.SPRITES_LOG_LEVEL ?? 'info',
  };
}

function positiveInt(value: string | undefined, fallback: number, name: string): number {
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name} must be a whole number of at least 1, not "${value}"`);
  return n;
}

/**
 * Every organization but the admin's: room for a team's sprites, not for the host. With
 * default-sized sprites (2048 MB, 20 GB) the counts bind first; bigger sprites meet the
 * memory and disk limits sooner.
 */
export const TENANT_ORG_LIMITS: OrgLimits = { sprites: 50, running: 10, memoryMb: 10 * 2048, storageGb: 50 * 20 };

/** Sprites the admin organization may have by default (a 1,000-sprite bench fits ten times). */
const ADMIN_ORG_SPRITES = 10_000;

/**
 * The admin organization is bounded by the host, not by a tenant's share: as many live
 * sprites as the host has uid ranges for (SPRITES_MAX_SPRITES), and memory and disk for
 * that many sprites at the per-sprite maxima, so only the counts can bind.
 */
function hostOrgLimits(limits: { maxSprites: number; maxRamMb: number; maxStorageGb: number }): OrgLimits {
  const cap = (n: number) => Math.min(MAX_LIMIT_VALUE, Math.max(0, Math.floor(n)));
  return {
    sprites: ADMIN_ORG_SPRITES,
    running: cap(limits.maxSprites),
    memoryMb: cap(limits.maxSprites * limits.maxRamMb),
    storageGb: cap(ADMIN_ORG_SPRITES * limits.maxStorageGb),
  };
}
