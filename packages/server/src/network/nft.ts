import { run } from '../host/index.js';
import { nftTableName, VETH_FAMILY_PREFIX, vethPrefix } from './names.js';

/**
 * The daemon's own nftables table. It keeps sprites off the host (the daemon's API
 * included) and off each other, and masquerades their egress. Sprites cannot touch it: it
 * lives in the host's network namespace.
 */
export class NftTable {
  constructor(
    private readonly instanceId: string,
    private readonly poolCidr: string,
  ) {}

  get name(): string {
    return nftTableName(this.instanceId);
  }

  /** Create or replace the table atomically (one nft transaction). */
  async install(): Promise<void> {
    const mine = `${vethPrefix(this.instanceId)}*`;
    const anySprite = `${VETH_FAMILY_PREFIX}*`;
    const ruleset = `
table inet ${this.name}
delete table inet ${this.name}
table inet ${this.name} {
  chain input {
    type filter hook input priority filter; policy accept;
    iifname "${mine}" ct state established,related accept
    iifname "${mine}" icmp type echo-request accept
    iifname "${mine}" counter drop
  }
  chain forward {
    type filter hook forward priority filter; policy accept;
    iifname "${mine}" oifname "${anySprite}" counter drop
    oifname "${mine}" iifname "${anySprite}" counter drop
    oifname "${mine}" ct state established,related accept
    oifname "${mine}" counter drop
  }
  chain postrouting {
    type nat hook postrouting priority srcnat; policy accept;
    ip saddr ${this.poolCidr} oifname != "${anySprite}" masquerade
  }
}
`;
    await run('nft', ['-f', '-'], { input: ruleset });
  }

  async remove(): Promise<void> {
    await run('nft', ['delete', 'table', 'inet', this.name], { okCodes: [1] });
  }

  async exists(): Promise<boolean> {
    const { stdout } = await run('nft', ['list', 'tables']);
    return stdout.split('\n').some((l) => l.trim() === `table inet ${this.name}`);
  }
}

/** Egress needs forwarding; it is a host-wide switch that we turn on and never off. */
export async function enableForwarding(): Promise<void> {
  await run('sysctl', ['-q', '-w', 'net.ipv4.ip_forward=1']);
}
