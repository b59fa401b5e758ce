import { run } from '../host/index.js';
import type { DnsAddress } from './dns-wire.js';
import { NftSession } from './nft-session.js';

/** Learned addresses stay at least this long (a TTL of 0 would let the connect race it). */
const MIN_TTL_S = 30;
const MAX_TTL_S = 86_400;

function ttl(a: DnsAddress): number {
  return Math.min(MAX_TTL_S, Math.max(MIN_TTL_S, a.ttl));
}

/**
 * The nftables side of egress policies, inside the daemon's table (see NftTable): per
 * sprite under a policy, a set of learned IPv4 addresses and a chain that lets a sprite
 * reach only those, reached through the `policy_egress` verdict map by the sprite's host
 * veth. Non-public ranges are refused before (the table's `egress_guard`, ADR 0016),
 * whatever a name resolved to; every sprite's DNS already goes to the proxy.
 * Connections are marked with the policy's generation: a change cuts connections to
 * destinations no longer allowed, and learned addresses expiring do not cut live ones.
 */
export class PolicyEnforcer {
  private readonly nft: NftSession;

  constructor(private readonly table: string) {
    this.nft = new NftSession(`inet ${table} policy_sync`);
  }

  /** One atomic nft batch (a process): changes of a whole policy land together. */
  private async batch(lines: string[]): Promise<void> {
    await run('nft', ['-f', '-'], { input: `${lines.join('\n')}\n` });
  }

  private chain(slot: number): string {
    return `policy_${slot}`;
  }

  private set(slot: number): string {
    return `policy_${slot}_v4`;
  }

  /** Puts a sprite under (a new generation of) its policy, with the addresses still allowed. */
  async apply(slot: number, veth: string, generation: number, allowed: DnsAddress[]): Promise<void> {
    const t = `inet ${this.table}`;
    const mark = `0x${(generation & 0xffffffff).toString(16)}`;
    const set = this.set(slot);
    const chain = this.chain(slot);
    const v4 = allowed.filter((a) => a.family === 4);
    await this.batch([
      `add set ${t} ${set} { type ipv4_addr; flags timeout; }`,
      `flush set ${t} ${set}`,
      ...(v4.length > 0
        ? [`add element ${t} ${set} { ${v4.map((a) => `${a.address} timeout ${ttl(a)}s`).join(', ')} }`]
        : []),
      `add chain ${t} ${chain}`,
      `flush chain ${t} ${chain}`,
      `add rule ${t} ${chain} ip daddr @${set} ct mark set ${mark} accept`,
      `add rule ${t} ${chain} ct state established,related ct mark ${mark} accept`,
      `add rule ${t} ${chain} meta l4proto tcp reject with tcp reset`,
      `add rule ${t} ${chain} reject with icmpx type admin-prohibited`,
      `add element ${t} policy_egress { "${veth}" : jump ${chain} }`,
    ]);
  }

  /** Lets the sprite reach addresses an allowed name resolved to, for their TTL. */
  async learn(slot: number, addresses: DnsAddress[]): Promise<void> {
    const v4 = addresses.filter((a) => a.family === 4);
    if (v4.length === 0) return;
    const elements = v4.map((a) => `${a.address} timeout ${ttl(a)}s`).join(', ');
    await this.nft.run(`add element inet ${this.table} ${this.set(slot)} { ${elements} }`);
  }

  /**
   * Lifts the policy: the sprite's traffic is unrestricted again. Best effort by default
   * (a stopping sprite, half set up or never, has only some of these; its veth goes anyway).
   * `strict` is for a policy change on a sprite whose policy was applied in full: one atomic
   * batch that either lifts it or, when nft fails, throws and leaves it in force.
   */
  async remove(slot: number, veth: string, opts: { strict?: boolean } = {}): Promise<void> {
    const t = `inet ${this.table}`;
    const lines = [
      `delete element ${t} policy_egress { "${veth}" }`,
      `delete chain ${t} ${this.chain(slot)}`,
      `delete set ${t} ${this.set(slot)}`,
    ];
    if (opts.strict) return this.batch(lines);
    for (const line of lines) await this.batch([line]).catch(() => undefined);
  }

  close(): void {
    this.nft.close();
  }
}
