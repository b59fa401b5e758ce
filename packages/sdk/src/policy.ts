import type { CallOptions } from './abort.js';
import { spritePath } from '@sprites/protocol';
import type { SpriteContext } from './platform.js';
import { readText } from './http.js';
import type { StreamKinds } from './platform.js';

/** One rule: a domain (`example.com`, `*.example.com`, `*`) with an action, or a preset (`include: "defaults"`). */
export interface PolicyRule {
  domain?: string;
  action?: 'allow' | 'deny';
  include?: string;
}

/** A sprite's egress policy; no rules means unrestricted. */
export interface NetworkPolicy {
  rules: PolicyRule[];
}

export async function getNetworkPolicy<K extends StreamKinds>(
  ctx: SpriteContext<K>,
  opts: CallOptions = {},
): Promise<NetworkPolicy> {
  const body = await ctx.transport.json<{ rules?: PolicyRule[] | null }>(
    'GET',
    spritePath('networkPolicy', { name: ctx.name }),
    opts,
  );
  return { rules: body.rules ?? [] };
}

/** Replaces the policy; it applies at once (open connections to destinations now denied are cut). */
export async function updateNetworkPolicy<K extends StreamKinds>(
  ctx: SpriteContext<K>,
  policy: NetworkPolicy,
  opts: CallOptions = {},
): Promise<void> {
  await readText(
    await ctx.transport.send('POST', spritePath('networkPolicy', { name: ctx.name }), {
      json: policy,
      expect: [204],
      ...opts,
    }),
  );
}
