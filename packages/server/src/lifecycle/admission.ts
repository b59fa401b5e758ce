import { ErrorCode, SpriteError, type SpriteConfig } from '@sprites/protocol';
import { ADMIN_ORG, type OrgLimits } from '../config.js';
import { KeyedMutex } from '../host/index.js';
import type { SpriteRecord } from '../registry/index.js';
import type { LifecycleContext } from './context.js';
import {
  effectiveLimits,
  orgUsage,
  planAdmission,
  type AdmissionRequest,
  type EvictionCandidate,
  type OrgUsage,
  type Refusal,
  type Reservation,
} from './org-limits.js';
import { coolDown } from './stop.js';

/** Room an admitted create or boot holds until its outcome is in the registry. */
export interface AdmissionTicket {
  /** The id a create's sprite got (so its registry row and the ticket count once). */
  bind(spriteId: string): void;
  /** Call once the sprite's row and run are recorded, or the attempt failed. Idempotent. */
  release(): void;
}

/** Admission for boots of existing sprites (wake, restore of a cold sprite, restart). */
export interface StartGate {
  /** Room for the sprite to become live, made by cooling idle warm sprites if need be; or a 429. */
  admitStart(sprite: SpriteRecord): Promise<AdmissionTicket>;
  /** Keeps a live sprite's place while it is stopped and booted again (no check). */
  hold(sprite: SpriteRecord): AdmissionTicket;
}

/** Limits of one organization: enforced, set through the API, and the daemon's defaults. */
export interface OrgLimitView {
  limits: OrgLimits;
  custom: Partial<OrgLimits>;
  defaults: OrgLimits;
}

/** Rounds of making room before a request is refused (others may take the room made). */
const MAX_EVICTION_ROUNDS = 3;

/**
 * Enforces organization limits (ADR 0023) on creates and boots. The check and the
 * reservation happen under a per-organization lock, and reservations count until the
 * registry shows the result, so concurrent requests can never pass a limit together.
 * Cooling idle warm sprites happens outside that lock, each under its own sprite's lock,
 * taken only when free (a sprite with an operation in flight is not idle), so no lock
 * cycle can form; then the check runs again.
 */
export class OrgAdmission implements StartGate {
  private readonly orgLocks = new KeyedMutex();
  private readonly reservations = new Set<Reservation>();
  /** Warm sprites being cooled to make room: not offered to another request meanwhile. */
  private readonly cooling = new Set<string>();

  constructor(private readonly ctx: LifecycleContext) {}

  /** The organization's limits: enforced, custom and default. */
  async view(orgId: string): Promise<OrgLimitView> {
    const [org, custom] = await Promise.all([
      this.ctx.registry.orgs.byId(orgId),
      this.ctx.registry.orgLimits.get(orgId),
    ]);
    const defaults = org?.slug === ADMIN_ORG ? this.ctx.config.orgLimits.admin : this.ctx.config.orgLimits.tenant;
    return { limits: effectiveLimits(defaults, custom), custom, defaults };
  }

  /** What the organization uses now, creates and boots in flight included. */
  async usage(orgId: string): Promise<OrgUsage> {
    return orgUsage(await this.ctx.registry.sprites.footprint(orgId), this.reservationsOf(orgId));
  }

  /** Room for a new sprite of `config` in the organization (it is created running). */
  admitCreate(orgId: string, config: Required<SpriteConfig>): Promise<AdmissionTicket> {
    return this.admit(orgId, null, { create: true, ramMb: config.ram_mb, storageGb: config.storage_gb });
  }

  admitStart(sprite: SpriteRecord): Promise<AdmissionTicket> {
    return this.admit(sprite.orgId, sprite.id, {
      create: false,
      ramMb: sprite.config.ram_mb,
      storageGb: sprite.config.storage_gb,
    });
  }

  hold(sprite: SpriteRecord): AdmissionTicket {
    return this.reserve({
      orgId: sprite.orgId,
      spriteId: sprite.id,
      kind: 'start',
      ramMb: sprite.config.ram_mb,
      storageGb: sprite.config.storage_gb,
    });
  }

  private async admit(orgId: string, spriteId: string | null, request: AdmissionRequest): Promise<AdmissionTicket> {
    for (let round = 1; ; round++) {
      const step = await this.orgLocks.run(
        orgId,
        async (): Promise<AdmissionTicket | { victims: string[] } | Refusal> => {
          const [{ limits }, rows] = await Promise.all([this.view(orgId), this.ctx.registry.sprites.footprint(orgId)]);
          const usage = orgUsage(rows, this.reservationsOf(orgId));
          const reserved = new Set(this.reservationsOf(orgId).map((r) => r.spriteId));
          const candidates: EvictionCandidate[] = rows
            .filter(
              (s) =>
                s.live && s.status === 'warm' && s.id !== spriteId && !reserved.has(s.id) && !this.cooling.has(s.id),
            )
            .filter((s) => this.ctx.activity.openConnections(s.id) === 0 && !this.ctx.locks.busy(s.id))
            .map((s) => ({ id: s.id, ramMb: s.ramMb, lastActive: this.ctx.activity.lastActive(s.id) ?? 0 }));
          const plan = planAdmission(limits, usage, request, candidates);
          if (plan.kind === 'admit') {
            return this.reserve({
              orgId,
              spriteId,
              kind: request.create ? 'create' : 'start',
              ramMb: request.ramMb,
              storageGb: request.storageGb,
            });
          }
          if (plan.kind === 'refuse' || round > MAX_EVICTION_ROUNDS) return plan.refusal;
          for (const id of plan.victims) this.cooling.add(id);
          return { victims: plan.victims };
        },
      );
      if ('release' in step) return step;
      if ('limit' in step) {
        this.ctx.log.info(
          {
            event: 'org.limit',
            orgId,
            spriteId,
            limit: step.limit,
            max: step.max,
            current: step.current,
            outcome: 'refused',
          },
          `refused: the organization's ${step.limit} limit`,
        );
        throw limitError(step);
      }
      try {
        await Promise.all(step.victims.map((id) => this.coolForRoom(id, orgId, spriteId)));
      } finally {
        for (const id of step.victims) this.cooling.delete(id);
      }
    }
  }

  /** Puts an idle warm sprite to cold; false (nothing done) if it is busy or no longer warm. */
  private async coolForRoom(victimId: string, orgId: string, forSpriteId: string | null): Promise<boolean> {
    const { ctx } = this;
    if (ctx.locks.busy(victimId)) return false;
    try {
      return await ctx.locks.run(victimId, async () => {
        const victim = await ctx.registry.sprites.byId(victimId);
        if (
          !victim ||
          victim.status !== 'warm' ||
          ctx.activity.openConnections(victimId) > 0 ||
          !(await ctx.registry.runs.get(victimId))
        )
          return false;
        await coolDown(ctx, victimId, 'making room in its organization');
        ctx.log.info(
          { event: 'sprite.evict', spriteId: victimId, orgId, forSpriteId, outcome: 'ok' },
          "an idle warm sprite went cold to make room under its organization's limits",
        );
        return true;
      });
    } catch (err) {
      ctx.log.warn(
        { event: 'sprite.evict', spriteId: victimId, orgId, outcome: 'error', err },
        'could not put a warm sprite to cold to make room',
      );
      return false;
    }
  }

  private reservationsOf(orgId: string): Reservation[] {
    return [...this.reservations].filter((r) => r.orgId === orgId);
  }

  private reserve(r: Reservation): AdmissionTicket {
    this.reservations.add(r);
    return {
      bind: (spriteId) => void (r.spriteId = spriteId),
      release: () => void this.reservations.delete(r),
    };
  }
}

/** The API error for a refusal: PROTOCOL §2.1 fields `limit` and `current_count`. */
function limitError(r: Refusal): SpriteError {
  const details = { limit: r.max, current_count: r.current };
  switch (r.limit) {
    case 'sprites':
      return new SpriteError(
        ErrorCode.SpriteLimitExceeded,
        `the organization has ${r.current} sprites, its limit is ${r.max}; delete a sprite or ask the operator to raise sprite_limit`,
        { details },
      );
    case 'storage':
      return new SpriteError(
        ErrorCode.StorageLimitExceeded,
        `a sprite of ${r.requested} GB would bring the organization's storage to ${r.current + r.requested} GB, its limit is ${r.max} GB; create a smaller sprite, delete one, or ask the operator to raise storage_limit_gb`,
        { details },
      );
    case 'running':
      return new SpriteError(
        ErrorCode.ConcurrentSpriteLimitExceeded,
        `the organization has ${r.current} running or warm sprites, its limit is ${r.max}, and none of them is idle; retry once one has gone idle (an idle warm sprite makes room), delete one, or ask the operator to raise running_limit`,
        { details },
      );
    case 'memory':
      return new SpriteError(
        ErrorCode.MemoryLimitExceeded,
        `a sprite of ${r.requested} MB would bring the memory of the organization's running and warm sprites to ${r.current + r.requested} MB, its limit is ${r.max} MB; retry once a sprite has gone idle, or ask the operator to raise memory_limit_mb`,
        { details },
      );
  }
}
