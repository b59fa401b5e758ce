import {
  ErrorCode,
  nameProblem,
  routerPattern,
  SpriteError,
  SPRITES_PATH,
  type CreateSpriteRequest,
  type ListSpritesResponse,
  type SpriteConfig,
  type UpdateSpriteRequest,
  type URLSettings,
} from '@sprites/protocol';
import type { FastifyInstance } from 'fastify';
import { NameTakenError, UrlTakenError, urlLabel, type SpriteRecord } from '../../registry/index.js';
import type { ApiDeps } from '../deps.js';
import { findSprite } from '../../access/index.js';
import { toSpriteInfo } from '../present.js';
import { createSpriteBody, listSpritesQuery, updateSpriteBody } from '../schemas.js';

const DEFAULT_PAGE = 50;
const MAX_PAGE = 100;

export function spriteRoutes(app: FastifyInstance, deps: ApiDeps): void {
  const { registry, lifecycle, config } = deps;
  const info = (record: SpriteRecord, orgSlug: string) => toSpriteInfo(record, orgSlug, config.spriteUrlTemplate);

  const lookup = (orgId: string, name: string): Promise<SpriteRecord> => findSprite(registry, orgId, name);

  app.post<{ Body: CreateSpriteRequest }>(
    SPRITES_PATH,
    { schema: { body: createSpriteBody } },
    async (request, reply) => {
      const caller = await deps.authenticate(request);
      const body = request.body;
      const problem = nameProblem(body.name);
      if (problem) throw new SpriteError(ErrorCode.InvalidName, problem, { details: { field: 'name' } });
      const spriteConfig = resolveConfig(body.config ?? {}, config);
      // Checked first so a taken URL never costs a pre-booted sprite (the insert still decides).
      const label = urlLabel(body.name, caller.org.slug);
      const holder = await deps.registry.sprites.byUrlLabel(label);
      if (holder && holder.orgId !== caller.org.id) throw urlTaken(new UrlTakenError(label));
      try {
        const record = await lifecycle.create({
          orgId: caller.org.id,
          name: body.name,
          config: spriteConfig,
          environment: body.environment ?? {},
          labels: dedupe(body.labels ?? []),
          urlSettings: body.url_settings ?? { auth: 'sprite' },
        });
        return reply.status(201).send(info(record, caller.org.slug));
      } catch (e) {
        if (e instanceof NameTakenError)
          throw new SpriteError(
            ErrorCode.NameTaken,
            `${e.message}; pick another name or delete the existing sprite first`,
            { details: { field: 'name' } },
          );
        if (e instanceof UrlTakenError) throw urlTaken(e);
        throw e;
      }
    },
  );

  app.get<{ Querystring: { max_results?: string; continuation_token?: string; prefix?: string } }>(
    SPRITES_PATH,
    { schema: { querystring: listSpritesQuery } },
    async (request): Promise<ListSpritesResponse> => {
      const caller = await deps.authenticate(request);
      const q = request.query;
      const requested = q.max_results === undefined ? DEFAULT_PAGE : Number(q.max_results);
      const limit = Math.min(MAX_PAGE, Math.max(1, requested || DEFAULT_PAGE));
      const afterSeq = q.continuation_token ? decodeToken(q.continuation_token) : undefined;
      const page = await registry.sprites.list(caller.org.id, { prefix: q.prefix || undefined, afterSeq, limit });
      const [counts, { limits }, usage] = await Promise.all([
        registry.sprites.countByStatus(caller.org.id),
        lifecycle.orgLimits(caller.org.id),
        lifecycle.orgUsage(caller.org.id),
      ]);
      // A warm sprite counts against the running limit (ADR 0023): both report that limit.
      const org = {
        name: caller.org.slug,
        ...counts,
        running_limit: limits.running,
        warm_limit: limits.running,
        sprite_limit: limits.sprites,
        memory_limit_mb: limits.memoryMb,
        storage_limit_gb: limits.storageGb,
        sprite_count: usage.sprites,
        memory_used_mb: usage.memoryMb,
        storage_used_gb: usage.storageGb,
      };
      return {
        sprites: page.sprites.map((s) => info(s, caller.org.slug)),
        // The Go SDK reads the counters from `org`, the JS SDK from the top level: both get them.
        org,
        ...org,
        has_more: page.nextAfterSeq !== null,
        next_continuation_token: page.nextAfterSeq === null ? null : encodeToken(page.nextAfterSeq),
      };
    },
  );

  app.get<{ Params: { name: string } }>(routerPattern('sprite'), async (request) => {
    const caller = await deps.authenticate(request);
    return info(await lookup(caller.org.id, request.params.name), caller.org.slug);
  });

  app.put<{ Params: { name: string }; Body: UpdateSpriteRequest }>(
    routerPattern('sprite'),
    { schema: { body: updateSpriteBody } },
    async (request) => {
      const caller = await deps.authenticate(request);
      const sprite = await lookup(caller.org.id, request.params.name);
      const body = request.body ?? {};
      let labels: string[] | undefined;
      if (body.clear_labels) labels = [];
      if (body.labels) labels = dedupe(body.labels);
      let urlSettings: URLSettings | undefined;
      if (body.url_settings) urlSettings = { ...sprite.urlSettings, ...stripNulls(body.url_settings) };
      await registry.sprites.update(sprite.id, { labels, urlSettings });
      deps.spriteChanged(sprite.id);
      return info((await registry.sprites.byId(sprite.id)) ?? sprite, caller.org.slug);
    },
  );

  app.delete<{ Params: { name: string } }>(routerPattern('sprite'), async (request, reply) => {
    const caller = await deps.authenticate(request);
    const sprite = await lookup(caller.org.id, request.params.name);
    await lifecycle.destroy(sprite);
    deps.spriteChanged(sprite.id);
    return reply.status(204).send();
  });

  app.post<{ Params: { name: string } }>(routerPattern('upgrade'), async (request, reply) => {
    const caller = await deps.authenticate(request);
    const sprite = await lookup(caller.org.id, request.params.name);
    await lifecycle.upgrade(sprite.id);
    return reply.status(204).send();
  });
}

function resolveConfig(requested: SpriteConfig, config: ApiDeps['config']): Required<SpriteConfig> {
  const { defaults, limits } = config;
  const check = (field: keyof SpriteConfig, value: number, min: number, max: number) => {
    if (!Number.isInteger(value) || value < min || value > max) {
      throw new SpriteError(
        ErrorCode.ValidationFailed,
        `config.${field} must be an integer from ${min} to ${max} (got ${value})`,
        { details: { field: `config.${field}` } },
      );
    }
    return value;
  };
  return {
    ram_mb: check('ram_mb', requested.ram_mb ?? defaults.ramMb, 64, limits.maxRamMb),
    cpus: check('cpus', requested.cpus ?? defaults.cpus, 1, limits.maxCpus),
    storage_gb: check('storage_gb', requested.storage_gb ?? defaults.storageGb, 1, limits.maxStorageGb),
    region: requested.region || defaults.region,
  };
}

function dedupe(labels: string[]): string[] {
  return [...new Set(labels)];
}

function stripNulls<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== null && v !== undefined)) as Partial<T>;
}

/** Continuation tokens are opaque to clients: the creation sequence number of the last item. */
function encodeToken(seq: number): string {
  return Buffer.from(`s:${seq}`).toString('base64url');
}

function decodeToken(token: string): number {
  const m = /^s:(\d{1,15})$/.exec(Buffer.from(token, 'base64url').toString('utf8'));
  if (!m)
    throw new SpriteError(
      ErrorCode.BadRequest,
      'continuation_token is not one this server issued; start again without it',
      { details: { field: 'continuation_token' } },
    );
  return Number(m[1]);
}

/** Two organizations' sprites must never share a URL: the second name is refused. */
function urlTaken(e: UrlTakenError): SpriteError {
  return new SpriteError(
    ErrorCode.NameTaken,
    `${e.message} (sprite URLs are <name>-<organization>); pick another name`,
    { details: { field: 'name' } },
  );
}
