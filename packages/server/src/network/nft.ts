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
    /** The port of the daemon's DNS policy proxy; sprites under a policy have their DNS sent there. */
    private readonly dnsPort: number | null = null,
  ) {}

  get name(): string {
    return nftTableName(this.instanceId);
  }

  /** Create or replace the table atomically (one nft transaction). */
  async install(): Promise<void> {
    const mine = `${vethPrefix(this.instanceId)}*`;
    const anySprite = `${VETH_FAMILY_PREFIX}*`;
    const dns = this.dnsPort;
    const ruleset = `
table inet ${this.name}
delete table inet ${this.name}
table inet ${this.name} {
  # Egress policies (ADR 0015): a sprite's veth → its policy chain; veths whose DNS goes
  # to the daemon's proxy.
  map policy_egress { type ifname : verdict; }
  set policy_dns { type ifname; }
  # Touched in every policy transaction, so each one commits a new generation (an ack).
  set policy_sync { type inet_service; }
  chain input {
    type filter hook input priority filter; policy accept;
    iifname "${mine}" ct state established,related accept
    iifname "${mine}" icmp type echo-request accept
${dns ? `    iifname "${mine}" meta l4proto { tcp, udp } th dport ${dns} accept
` : ''}    iifname "${mine}" counter drop
  }
  chain forward {
    type filter hook forward priority filter; policy accept;
    iifname "${mine}" oifname "${anySprite}" counter drop
    oifname "${mine}" iifname "${anySprite}" counter drop
    iifname "${mine}" iifname vmap @policy_egress
    oifname "${mine}" ct state established,related accept
    oifname "${mine}" counter drop
  }
  chain prerouting {
    type nat hook prerouting priority dstnat; policy accept;
${dns ? `    iifname @policy_dns meta l4proto { tcp, udp } th dport 53 redirect to :${dns}
` : ''}  }
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
