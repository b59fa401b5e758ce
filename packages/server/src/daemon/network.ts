import { readFile } from 'node:fs/promises';
import type { DaemonConfig } from '../config.js';
import { raiseSysctls } from '../host/index.js';
import type { Logger } from '../log.js';
import { enableForwarding, NftTable, type Pool } from '../network/index.js';
import { DnsProxy, PolicyEnforcer, PolicyService, type Upstream } from '../policy/index.js';
import type { Registry } from '../registry/index.js';
import type { SpritePaths } from '../lifecycle/index.js';

/** The host's network side of all sprites: their DNS proxy, egress policies and our nftables table. */
export interface SpriteNetwork {
  policy: PolicyService;
  enforcer: PolicyEnforcer;
  dnsProxy: DnsProxy;
  nft: NftTable;
}

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

/**
 * Every sprite's DNS: a proxy on each sprite's gateway address (ADR 0016), the same port on
 * all of them; egress policies (ADR 0015) on top; the nftables side in our table. Also turns
 * on forwarding and raises the kernel limits many sprites need.
 */
export async function openNetwork(
  config: DaemonConfig,
  pool: Pool,
  registry: Registry,
  paths: SpritePaths,
  log: Logger,
): Promise<SpriteNetwork> {
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
  await raiseKernelLimits(log);
  await nft.install();
  if (config.egressAllow.length > 0)
    log.info(
      { room: 'network', egressAllow: config.egressAllow },
      `sprites may reach ${config.egressAllow.join(', ')} besides the public internet`,
    );
  return { policy, enforcer, dnsProxy, nft };
}

async function raiseKernelLimits(log: Logger): Promise<void> {
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
}
