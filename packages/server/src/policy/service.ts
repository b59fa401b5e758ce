import { mkdir, rename, writeFile } from 'node:fs/promises';
import { crashPoint } from '../host/index.js';
import { join } from 'node:path';
import type { Logger } from '../log.js';
import type { Registry } from '../registry/index.js';
import {
  answerAddresses,
  errorResponse,
  parseQuestion,
  RCODE_REFUSED,
  RCODE_SERVFAIL,
  type DnsAddress,
} from './dns-wire.js';
import { askUpstream, type Upstream } from './dns-upstream.js';
import type { PolicyEnforcer } from './enforcer.js';
import { PolicyMatcher, validatePolicy, type NetworkPolicy } from './rules.js';

/** What a running sprite's network looks like, for its policy. */
export interface PolicySlot {
  index: number;
  hostVeth: string;
  spriteIp: string;
}

interface Learned {
  names: Set<string>;
  expires: number;
}

interface Attached {
  spriteId: string;
  slot: PolicySlot;
  matcher: PolicyMatcher;
  generation: number;
  /** Addresses allowed names resolved to, until their TTL runs out. */
  learned: Map<string, Learned>;
}

/** A learned address is added again once less than this is left of its time. */
const REFRESH_MARGIN_MS = 10_000;

export interface PolicyServiceOptions {
  registry: Registry;
  log: Logger;
  enforcer: PolicyEnforcer;
  upstream: Upstream;
  /** Host directory bound read-only at /.sprite/policy inside a running sprite. */
  policyDir(spriteId: string): string;
}

/**
 * Network egress policies (PROTOCOL.md §13, ADR 0015): stored in the registry, shown inside
 * the sprite, enforced from the host. While a sprite with rules runs, its DNS goes to the
 * proxy, which refuses denied names and lets the sprite reach what allowed names resolve
 * to (for their TTL); everything else is rejected by nftables.
 */
export class PolicyService {
  private readonly bySprite = new Map<string, Attached>();
  private readonly byIp = new Map<string, Attached>();

  constructor(private readonly opts: PolicyServiceOptions) {}

  async get(spriteId: string): Promise<NetworkPolicy> {
    const stored = await this.opts.registry.sprites.networkPolicy(spriteId);
    return stored ? (JSON.parse(stored.json) as NetworkPolicy) : { rules: [] };
  }

  /**
   * Validates and stores a policy; a running sprite gets it at once (open connections to
   * destinations now denied are cut). All or nothing: if nftables refuses it, the sprite keeps
   * the policy it had, stored, shown at /.sprite/policy and enforced, and the error says so.
   */
  async set(spriteId: string, body: unknown, slotOf: () => Promise<PolicySlot | null>): Promise<void> {
    const policy = validatePolicy(body);
    const previous = await this.opts.registry.sprites.networkPolicy(spriteId);
    const generation = await this.opts.registry.sprites.setNetworkPolicy(spriteId, JSON.stringify(policy));
    crashPoint('policy.recorded');
    const slot = this.bySprite.get(spriteId)?.slot ?? (await slotOf());
    if (!slot) return;
    try {
      await this.activate(spriteId, slot, policy, generation, true);
    } catch (e) {
      const before = previous?.json ?? JSON.stringify({ rules: [] });
      await this.opts.registry.sprites
        .setNetworkPolicy(spriteId, before)
        .catch((err: unknown) =>
          this.opts.log.error({ err, spriteId }, 'could not put the previous network policy back in the registry'),
        );
      await this.writeFile(spriteId, JSON.parse(before) as NetworkPolicy).catch((err: unknown) =>
        this.opts.log.error({ err, spriteId }, 'could not show the previous network policy again'),
      );
      throw new Error('apply the network policy (the previous one stays in force)', { cause: e });
    }
  }

  /** A sprite boots (or the daemon adopts it): show its policy and enforce it. */
  async attach(spriteId: string, slot: PolicySlot): Promise<void> {
    const stored = await this.opts.registry.sprites.networkPolicy(spriteId);
    const policy = stored ? (JSON.parse(stored.json) as NetworkPolicy) : { rules: [] };
    await this.activate(spriteId, slot, policy, stored?.generation ?? 0);
  }

  /**
   * A sprite stops: its nftables objects go (the veth goes with the run anyway), best effort.
   * `strict` (a policy lifted by a change): nft must confirm, else it throws and the policy
   * stays in force and known.
   */
  async detach(spriteId: string, strict = false): Promise<void> {
    const a = this.bySprite.get(spriteId);
    if (!a) return;
    if (strict) await this.opts.enforcer.remove(a.slot.index, a.slot.hostVeth, { strict: true });
    this.bySprite.delete(spriteId);
    this.byIp.delete(a.slot.spriteIp);
    if (!strict) await this.opts.enforcer.remove(a.slot.index, a.slot.hostVeth);
  }

  private async activate(
    spriteId: string,
    slot: PolicySlot,
    policy: NetworkPolicy,
    generation: number,
    strict = false,
  ): Promise<void> {
    await this.writeFile(spriteId, policy);
    const matcher = new PolicyMatcher(policy);
    const previous = this.bySprite.get(spriteId);
    if (!matcher.enforced) {
      if (previous) await this.detach(spriteId, strict);
      return;
    }
    // What was learned from names that are still allowed stays reachable.
    const now = Date.now();
    const learned = new Map<string, Learned>();
    for (const [ip, entry] of previous?.learned ?? []) {
      const names = new Set([...entry.names].filter((n) => matcher.decide(n) === 'allow'));
      if (names.size > 0 && entry.expires > now) learned.set(ip, { names, expires: entry.expires });
    }
    const attached: Attached = { spriteId, slot, matcher, generation, learned };
    const keep: DnsAddress[] = [...learned].map(([address, e]) => ({
      family: 4,
      address,
      ttl: Math.ceil((e.expires - now) / 1000),
    }));
    await this.opts.enforcer.apply(slot.index, slot.hostVeth, generation, keep);
    this.bySprite.set(spriteId, attached);
    this.byIp.set(slot.spriteIp, attached);
    this.opts.log.info(
      { event: 'policy.apply', spriteId, rules: policy.rules.length, generation },
      'network policy enforced',
    );
  }

  /** /.sprite/policy/network.json, replaced in one rename. */
  private async writeFile(spriteId: string, policy: NetworkPolicy): Promise<void> {
    const dir = this.opts.policyDir(spriteId);
    await mkdir(dir, { recursive: true, mode: 0o755 });
    const path = join(dir, 'network.json');
    await writeFile(`${path}.tmp`, `${JSON.stringify(policy, null, 2)}\n`, { mode: 0o644 });
    await rename(`${path}.tmp`, path);
  }

  /** The DNS proxy's handler: refuse denied names, learn what allowed ones resolve to. */
  readonly handleDns = async (query: Buffer, source: string, transport: 'udp' | 'tcp'): Promise<Buffer | null> => {
    const question = parseQuestion(query);
    if (!question) return null;
    const attached = this.byIp.get(source);
    if (attached && attached.matcher.decide(question.name) === 'deny') return errorResponse(query, RCODE_REFUSED);
    let answer: Buffer;
    try {
      answer = await askUpstream(this.opts.upstream, query, transport);
    } catch (e) {
      this.opts.log.warn({ err: e, name: question.name }, 'upstream DNS failed');
      return errorResponse(query, RCODE_SERVFAIL);
    }
    if (attached) await this.learn(attached, question.name, answerAddresses(answer));
    return answer;
  };

  private async learn(a: Attached, name: string, addresses: DnsAddress[]): Promise<void> {
    const now = Date.now();
    const fresh: DnsAddress[] = [];
    for (const addr of addresses) {
      if (addr.family !== 4) continue;
      const ttlMs = Math.max(30, addr.ttl) * 1000;
      const entry = a.learned.get(addr.address);
      if (entry) entry.names.add(name);
      if (entry && entry.expires - now > REFRESH_MARGIN_MS) continue;
      a.learned.set(addr.address, {
        names: entry?.names ?? new Set([name]),
        expires: Math.max(entry?.expires ?? 0, now + ttlMs),
      });
      fresh.push(addr);
    }
    // The answer is held back until nftables lets the sprite reach what it names.
    if (fresh.length > 0) await this.opts.enforcer.learn(a.slot.index, fresh);
  }
}
