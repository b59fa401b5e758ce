import { run } from '../host/index.js';
import { DENIED_V4 } from './egress.js';
import { nftTableName, VETH_FAMILY_PREFIX, vethPrefix } from './names.js';

/**
 * The daemon's own nftables table. It keeps sprites off the host (the daemon's API
 * included) and off each other, sends every DNS query of a sprite to the daemon's DNS proxy,
 * refuses egress to non-public ranges unless the operator allowed them (ADR 0016), and
 * masquerades the rest. Sprites cannot touch it: it lives in the host's network namespace.
 * What it refuses, it rejects (a TCP reset or ICMP admin-prohibited), so tools fail at once
 * instead of hanging on a silent drop.
 */
export class NftTable {
  constructor(
    private readonly instanceId: string,
    private readonly poolCidr: string,
    /** The port of the daemon's DNS proxy on each sprite's gateway; every sprite's DNS is sent there. */
    private readonly dnsPort: number | null = null,
    /** IPv4 CIDRs the operator lets sprites reach although DENIED_V4 or the pool covers them. */
    private readonly egressAllow: readonly string[] = [],
  ) {}

  get name(): string {
    return nftTableName(this.instanceId);
  }

  /** Create or replace the table atomically (one nft transaction). */
  async install(): Promise<void> {
    const mine = `${vethPrefix(this.instanceId)}*`;
    const anySprite = `${VETH_FAMILY_PREFIX}*`;
    const dns = this.dnsPort;
    const denied = [...DENIED_V4, this.poolCidr].join(', ');
    const allowed = this.egressAllow.length > 0 ? ` elements = { ${this.egressAllow.join(', ')} };` : '';
    const ruleset = `
table inet ${this.name}
delete table inet ${this.name}
table inet ${this.name} {
  # Egress policies (ADR 0015): a sprite's veth → its policy chain.
  map policy_egress { type ifname : verdict; }
  # Touched in every policy transaction, so each one commits a new generation (an ack).
  set policy_sync { type inet_service; }
  # Default-deny egress (ADR 0016): non-public ranges and the pool, minus what the operator allows.
  set egress_deny { type ipv4_addr; flags interval; auto-merge; elements = { ${denied} }; }
  set egress_allow { type ipv4_addr; flags interval; auto-merge;${allowed} }
  chain input {
    type filter hook input priority filter; policy accept;
    iifname "${mine}" ct state established,related accept
    iifname "${mine}" icmp type echo-request accept
${
  dns
    ? `    iifname "${mine}" meta l4proto { tcp, udp } th dport ${dns} accept
`
    : ''
}    iifname "${mine}" meta l4proto tcp counter reject with tcp reset
    iifname "${mine}" counter reject with icmpx type admin-prohibited
  }
  chain egress_guard {
    ip daddr @egress_allow return
    ip daddr @egress_deny meta l4proto tcp counter reject with tcp reset
    ip daddr @egress_deny counter reject with icmpx type admin-prohibited
    # Sprites have no IPv6 address; nothing of theirs leaves over IPv6.
    meta nfproto ipv6 counter reject with icmpx type admin-prohibited
  }
  chain forward {
    type filter hook forward priority filter; policy accept;
    iifname "${mine}" oifname "${anySprite}" counter drop
    oifname "${mine}" iifname "${anySprite}" counter drop
    iifname "${mine}" jump egress_guard
    iifname "${mine}" iifname vmap @policy_egress
    oifname "${mine}" ct state established,related accept
    oifname "${mine}" counter drop
  }
  chain prerouting {
    type nat hook prerouting priority dstnat; policy accept;
    # Whatever resolver a sprite names, its queries go to the proxy on its gateway.
${
  dns
    ? `    iifname "${mine}" meta l4proto { tcp, udp } th dport 53 redirect to :${dns}
`
    : ''
}  }
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
