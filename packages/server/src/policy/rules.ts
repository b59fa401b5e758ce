import { ErrorCode, SpriteError } from '@sprites/protocol';

/** One rule of a network policy, as on the wire (PROTOCOL.md §13). */
export interface PolicyRule {
  domain?: string;
  action?: 'allow' | 'deny';
  include?: string;
}

export interface NetworkPolicy {
  rules: PolicyRule[];
}

/**
 * The `defaults` preset: package registries, code hosts, Debian's archive and the major AI
 * APIs, allowed. Listed in docs/api.md.
 */
export const PRESETS: Record<string, readonly string[]> = {
  defaults: [
    'github.com',
    '*.github.com',
    '*.githubusercontent.com',
    'codeload.github.com',
    'ghcr.io',
    '*.ghcr.io',
    'gitlab.com',
    '*.gitlab.com',
    'bitbucket.org',
    'registry.npmjs.org',
    '*.npmjs.org',
    'registry.yarnpkg.com',
    '*.yarnpkg.com',
    'pypi.org',
    '*.pypi.org',
    'files.pythonhosted.org',
    'pypi.python.org',
    'crates.io',
    '*.crates.io',
    'static.rust-lang.org',
    'sh.rustup.rs',
    'proxy.golang.org',
    'sum.golang.org',
    'go.dev',
    'golang.org',
    'rubygems.org',
    '*.rubygems.org',
    'repo.maven.apache.org',
    'repo1.maven.org',
    'packagist.org',
    '*.packagist.org',
    'registry-1.docker.io',
    'auth.docker.io',
    'production.cloudflare.docker.com',
    '*.docker.io',
    '*.docker.com',
    'deb.debian.org',
    'security.debian.org',
    'archive.ubuntu.com',
    'security.ubuntu.com',
    'api.anthropic.com',
    'api.openai.com',
    'generativelanguage.googleapis.com',
    'openrouter.ai',
    'api.mistral.ai',
  ],
};

/** The most rules one policy may hold. */
export const MAX_RULES = 1000;
const LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

function invalid(message: string): SpriteError {
  return new SpriteError(ErrorCode.ValidationFailed, `invalid policy: ${message}`, { details: { field: 'rules' } });
}

function validDomain(d: string): boolean {
  if (d === '*') return true;
  const name = d.startsWith('*.') ? d.slice(2) : d;
  if (name.length === 0 || name.length > 253) return false;
  return name.split('.').every((l) => LABEL.test(l));
}

/** Checks a policy body; returns it normalized (lower-case domains, rules always an array). */
export function validatePolicy(body: unknown): NetworkPolicy {
  if (!body || typeof body !== 'object' || Array.isArray(body))
    throw invalid('the body must be a JSON object like {"rules":[{"domain":"example.com","action":"allow"}]}');
  const raw = (body as { rules?: unknown }).rules;
  if (raw === null || raw === undefined) return { rules: [] };
  if (!Array.isArray(raw)) throw invalid('rules must be an array');
  if (raw.length > MAX_RULES) throw invalid(`at most ${MAX_RULES} rules`);
  const rules: PolicyRule[] = raw.map((r, i) => {
    if (!r || typeof r !== 'object' || Array.isArray(r)) throw invalid(`rule ${i} must be an object`);
    const { domain, action, include, ...rest } = r as Record<string, unknown>;
    const extra = Object.keys(rest);
    if (extra.length > 0) throw invalid(`rule ${i} has unknown field "${extra[0]}"; use domain, action or include`);
    if (domain !== undefined && include !== undefined)
      throw invalid(`rule ${i} has both domain and include; use one per rule`);
    if (action !== undefined && action !== 'allow' && action !== 'deny')
      throw invalid(`rule ${i}: action must be "allow" or "deny", got ${JSON.stringify(action)}`);
    if (include !== undefined) {
      if (typeof include !== 'string' || !(include in PRESETS))
        throw invalid(
          `rule ${i}: unknown preset ${JSON.stringify(include)}; presets: ${Object.keys(PRESETS).join(', ')}`,
        );
      return action === undefined ? { include } : { include, action };
    }
    if (typeof domain !== 'string')
      throw invalid(`rule ${i} needs a domain (example.com, *.example.com or *) or an include`);
    const d = domain.trim().toLowerCase().replace(/\.$/, '');
    if (!validDomain(d)) throw invalid(`rule ${i}: "${domain}" is not a domain, a *.domain wildcard or *`);
    if (action === undefined) throw invalid(`rule ${i} needs an action: "allow" or "deny"`);
    return { domain: d, action };
  });
  return { rules };
}

/** What a policy decides for one name. */
export type Verdict = 'allow' | 'deny';

/**
 * Decides names: the most specific matching rule wins (an exact name over the longest
 * `*.suffix` over `*`); at equal specificity a deny wins. With rules but no match, the
 * name is denied (an allowlist). Presets expand to their domains with the include's
 * action (allow by default).
 */
export class PolicyMatcher {
  private readonly exact = new Map<string, Verdict>();
  private readonly wildcards = new Map<string, Verdict>();
  private star: Verdict | undefined;
  readonly enforced: boolean;

  constructor(policy: NetworkPolicy) {
    this.enforced = policy.rules.length > 0;
    const add = (domain: string, action: Verdict) => {
      const set = (map: Map<string, Verdict>, key: string) => map.set(key, map.get(key) === 'deny' ? 'deny' : action);
      if (domain === '*') this.star = this.star === 'deny' ? 'deny' : action;
      else if (domain.startsWith('*.')) set(this.wildcards, domain.slice(2));
      else set(this.exact, domain);
    };
    for (const r of policy.rules) {
      if (r.include) for (const d of PRESETS[r.include] ?? []) add(d, r.action ?? 'allow');
      else if (r.domain) add(r.domain, r.action ?? 'allow');
    }
  }

  decide(name: string): Verdict {
    if (!this.enforced) return 'allow';
    const n = name.toLowerCase().replace(/\.$/, '');
    const exact = this.exact.get(n);
    if (exact) return exact;
    // `*.example.com` covers a.example.com and a.b.example.com, not example.com itself.
    const labels = n.split('.');
    for (let i = 1; i < labels.length; i++) {
      const hit = this.wildcards.get(labels.slice(i).join('.'));
      if (hit) return hit;
    }
    return this.star ?? 'deny';
  }
}
