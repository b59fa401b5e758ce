import { ErrorCode, SpriteError, type OrganizationLimits, type OrganizationLimitsResponse } from '@sprites/protocol';
import type { FastifyInstance } from 'fastify';
import { MAX_LIMIT_VALUE, type OrgLimits } from '../../config.js';
import type { Organization, OrgLimitPatch } from '../../registry/index.js';
import type { Caller } from '../../access/index.js';
import { requireAdmin } from '../auth.js';
import type { ApiDeps } from '../deps.js';

/** Wire name of each limit (the list's org counters use the same names). */
const WIRE: Record<keyof OrgLimits, keyof OrganizationLimits> = {
  sprites: 'sprite_limit',
  running: 'running_limit',
  memoryMb: 'memory_limit_mb',
  storageGb: 'storage_limit_gb',
};
const KEYS = Object.keys(WIRE) as (keyof OrgLimits)[];

function toWire(limits: OrgLimits): OrganizationLimits;
function toWire(limits: Partial<OrgLimits>): Partial<OrganizationLimits>;
function toWire(limits: Partial<OrgLimits>): Partial<OrganizationLimits> {
  const out: Partial<OrganizationLimits> = {};
  for (const key of KEYS) if (limits[key] !== undefined) out[WIRE[key]] = limits[key];
  return out;
}

/**
 * A PUT body: an object of wire limit names, each an integer from 0 to MAX_LIMIT_VALUE (set
 * it) or null (back to the default); absent ones stay. Unknown names are refused, not
 * ignored: a misspelt limit must not look as if it had been set.
 */
export function parseLimitPatch(body: unknown): OrgLimitPatch {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new SpriteError(
      ErrorCode.ValidationFailed,
      `the body must be a JSON object with any of ${Object.values(WIRE).join(', ')}`,
    );
  }
  const byWire = new Map(KEYS.map((k) => [WIRE[k] as string, k]));
  const patch: OrgLimitPatch = {};
  for (const [name, value] of Object.entries(body)) {
    const key = byWire.get(name);
    if (!key)
      throw new SpriteError(
        ErrorCode.ValidationFailed,
        `unknown limit "${name.slice(0, 64)}"; the limits are ${Object.values(WIRE).join(', ')}`,
        { details: { field: name.slice(0, 64) } },
      );
    if (
      value !== null &&
      !(Number.isSafeInteger(value) && (value as number) >= 0 && (value as number) <= MAX_LIMIT_VALUE)
    ) {
      throw new SpriteError(
        ErrorCode.ValidationFailed,
        `${name} must be an integer from 0 to ${MAX_LIMIT_VALUE}, or null for the default`,
        { details: { field: name } },
      );
    }
    patch[key] = value as number | null;
  }
  return patch;
}

/**
 * Organization limits (ADR 0023): `GET` for the admin or the organization's own tokens,
 * `PUT` for the admin only.
 */
export function orgLimitRoutes(app: FastifyInstance, deps: ApiDeps): void {
  const { registry, lifecycle } = deps;

  const present = async (org: Organization): Promise<OrganizationLimitsResponse> => {
    const [view, usage] = await Promise.all([lifecycle.orgLimits(org.id), lifecycle.orgUsage(org.id)]);
    return {
      organization: org.slug,
      limits: toWire(view.limits),
      custom: toWire(view.custom),
      defaults: toWire(view.defaults),
      usage: {
        sprite_count: usage.sprites,
        live_count: usage.live,
        memory_used_mb: usage.memoryMb,
        storage_used_gb: usage.storageGb,
      },
    };
  };

  const organization = async (slug: string): Promise<Organization> => {
    const org = await registry.orgs.bySlug(slug);
    if (!org) throw new SpriteError(ErrorCode.OrganizationNotFound, `organization not found: ${slug.slice(0, 64)}`);
    return org;
  };

  /** The admin sees every organization's limits; a token sees its own organization's. */
  const mayRead = (caller: Caller, slug: string): void => {
    if (caller.grant.isAdmin || caller.org.slug === slug) return;
    throw new SpriteError(
      ErrorCode.Forbidden,
      "an organization's limits are visible to its own tokens and the admin token only",
    );
  };

  app.get<{ Params: { org: string } }>('/v1/organizations/:org/limits', async (request) => {
    mayRead(await deps.authenticate(request), request.params.org);
    return present(await organization(request.params.org));
  });

  app.put<{ Params: { org: string }; Body: unknown }>('/v1/organizations/:org/limits', async (request) => {
    const caller = await deps.authenticate(request);
    requireAdmin(caller);
    const org = await organization(request.params.org);
    const patch = parseLimitPatch(request.body);
    await registry.orgLimits.set(org.id, patch);
    deps.log.info(
      { event: 'org.limits', org: org.slug, patch, outcome: 'ok' },
      `limits of organization ${org.slug} changed`,
    );
    return present(org);
  });
}
