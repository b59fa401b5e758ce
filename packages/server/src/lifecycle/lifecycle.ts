import { randomUUID } from 'node:crypto';
import { crashPoint, FairGate, inContext, type SparePool } from '../host/index.js';
import { NameTakenError, type CheckpointRecord, type SpriteRecord } from '../registry/index.js';
import { removeCgroupTree, setFrozen } from '../runtime/index.js';
import { OrgAdmission, type OrgLimitView } from './admission.js';
import { hasRunningSession, sweepIdle, type IdleSweepDeps } from './idle.js';
import type { OrgUsage } from './org-limits.js';
import { adoptAndReclaim } from './adopt.js';
import type { ReclaimSummary } from './reclaim-step.js';
import { createCheckpoint, deleteCheckpoint, restoreCheckpoint, type Progress } from './checkpoint.js';
import type { LifecycleContext } from './context.js';
import { createSprite, type CreateSpriteInput } from './create.js';
import { destroySprite } from './destroy.js';
import { ensureHeadroom } from './headroom.js';
import { claimPrebooted, createPrebootPool, type Prebooted } from './preboot.js';
import { startSprite } from './start.js';
import { coolDown, stopSprite } from './stop.js';

/** Idle transitions (a freeze, a stop) one sweep works on at once. */
const IDLE_PARALLEL = 4;

/**
 * The door of the lifecycle room: the only place that combines runtime, storage and network
 * for a sprite. Operations on one sprite are serialized.
 */
export class SpriteLifecycle {
  private readonly preboot: SparePool<Prebooted>;
  private readonly admission: OrgAdmission;
  /** How many kept claims the idle pass last reported (logged only when it changes). */
  private keptLogged = 0;

  /** Creates in progress at once, fair between organizations (a burst of one waits behind itself). */
  private readonly creates: FairGate;

  /** What the idle policy acts through. */
  private readonly idleSweep: IdleSweepDeps;

  constructor(private readonly ctx: LifecycleContext) {
    this.creates = new FairGate(ctx.config.createConcurrency);
    this.idleSweep = {
      activity: ctx.activity,
      idle: ctx.idle,
      parallel: IDLE_PARALLEL,
      log: ctx.log,
      locked: (spriteId, fn) => ctx.locks.run(spriteId, fn),
      liveSprites: async () => (await ctx.registry.runs.all()).map((r) => r.spriteId),
      status: async (spriteId) => (await ctx.registry.sprites.byId(spriteId))?.status ?? null,
      deadRuns: () => ctx.watch.dead(),
      isDead: (spriteId) => ctx.watch.isDead(spriteId),
      currentRunId: async (spriteId) => (await ctx.registry.runs.get(spriteId))?.runId ?? null,
      stopDead: (spriteId) => this.stopDead(spriteId),
      hasRunningSession: (spriteId) => hasRunningSession(ctx.paths.agentSocket(spriteId)),
      freeze: async (spriteId, quietMs) => {
        await setFrozen(ctx.paths.cgroupPath(spriteId), true);
        crashPoint('idle.frozen');
        await ctx.registry.sprites.setStatus(spriteId, 'warm');
        ctx.log.info({ event: 'sprite.freeze', spriteId, quietMs, outcome: 'ok' }, 'sprite went warm');
      },
      coolDown: (spriteId) => coolDown(ctx, spriteId, 'idle'),
    };
    this.preboot = createPrebootPool(ctx, ctx.config.prebooted, () => ctx.quiet.whenQuiet());
    this.admission = new OrgAdmission(ctx);
  }

  /**
   * Creates a running sprite: a pre-booted one when one is ready, else booted now. Within
   * the organization's limits (ADR 0023), which may put its idle warm sprites to cold, and
   * refused (507) while the storage pool is below its reserve (ADR 0024).
   */
  create(input: CreateSpriteInput): Promise<SpriteRecord> {
    return named(
      `create sprite ${input.name}`,
      this.creates.run(input.orgId, () =>
        this.ctx.quiet.during(async () => {
          // Checked first so a taken name never costs a pre-booted sprite (the insert still decides).
          if (await this.ctx.registry.sprites.byName(input.orgId, input.name)) throw new NameTakenError(input.name);
          await ensureHeadroom(this.ctx, 'create a sprite');
          const ticket = await this.admission.admitCreate(input.orgId, input.config);
          try {
            const pre = this.preboot.takeReady();
            const id = pre?.id ?? randomUUID();
            ticket.bind(id);
            if (pre) return await claimPrebooted(this.ctx, pre, input);
            return await createSprite(this.ctx, input, id);
          } finally {
            ticket.release();
          }
        }),
      ),
    );
  }

  /** The organization's limits: enforced, set through the API, and the daemon's defaults. */
  orgLimits(orgId: string): Promise<OrgLimitView> {
    return this.admission.view(orgId);
  }

  /** What the organization uses of its limits now (creates and boots in flight included). */
  orgUsage(orgId: string): Promise<OrgUsage> {
    return this.admission.usage(orgId);
  }

  /** Starts keeping sprites pre-booted (after startup reclaim: it would take them for leftovers). */
  startPools(): void {
    this.preboot.refill();
  }

  /** Discards the pre-booted sprites, waiting for one being booted. */
  closePools(): Promise<void> {
    return this.preboot.close();
  }

  /**
   * Makes the sprite run, whatever it was: running stays, warm is thawed, cold boots.
   * Resolves once its agent can answer. Counts as activity.
   */
  async ensureRunning(spriteId: string): Promise<void> {
    // A thawed sprite can serve at once; its status is recorded after (still under the lock,
    // so no other transition sees a stale one), off the waiting request's path.
    let thawed: () => void = () => undefined;
    const awake = new Promise<void>((resolve) => (thawed = resolve));
    const transition = named(
      'start the sprite',
      this.ctx.locks.run(spriteId, () =>
        this.ctx.quiet.during(async () => {
          this.ctx.activity.touch(spriteId);
          const sprite = await this.ctx.registry.sprites.byId(spriteId);
          if (!sprite) throw new Error(`sprite ${spriteId} does not exist`);
          let hasRun = (await this.ctx.registry.runs.get(spriteId)) !== null;
          if (hasRun && this.ctx.watch.isDead(spriteId)) {
            await this.stopDead(spriteId);
            hasRun = false;
          }
          if (sprite.status === 'running' && hasRun) return;
          if (sprite.status === 'warm' && hasRun) {
            await setFrozen(this.ctx.paths.cgroupPath(spriteId), false);
            crashPoint('wake.thawed');
            thawed();
            await this.ctx.registry.sprites.setStatus(spriteId, 'running');
            this.ctx.log.info({ event: 'sprite.thaw', spriteId, outcome: 'ok' }, 'sprite woke from warm');
            return;
          }
          // A cold sprite becomes live: within its organization's limits (ADR 0023).
          const ticket = await this.admission.admitStart(sprite);
          try {
            await startSprite(this.ctx, sprite);
          } finally {
            ticket.release();
          }
        }),
      ),
    );
    let woke = false;
    await Promise.race([awake.then(() => (woke = true)), transition]);
    if (woke) {
      transition.catch((err: unknown) =>
        this.ctx.log.error({ spriteId, err }, 'recording the thaw failed; the sprite runs'),
      );
    }
  }

  /** The sprite is being used through the daemon: a connection opened or closed. */
  connectionOpened(spriteId: string): void {
    this.ctx.activity.opened(spriteId);
  }

  connectionClosed(spriteId: string): void {
    this.ctx.activity.closed(spriteId);
  }

  /**
   * One pass of the idle policy (idle.ts), then claims kept by earlier teardowns are retried.
   */
  async sweepIdle(): Promise<void> {
    await sweepIdle(this.idleSweep);
    // Claims an earlier teardown had to keep (ADR 0022) are given back once their resource is gone.
    const kept = await this.ctx.allocator.retryKept();
    if (kept !== this.keptLogged)
      this.ctx.log.warn(
        { kept },
        `${kept} network slot(s) or id range(s) still held by resources that did not go away`,
      );
    this.keptLogged = kept;
  }

  /**
   * The sprite's container exited on its own (its agent died: OOM-killed, crashed, or killed
   * by root in the sprite): release the run, so the sprite is cold and the next request boots
   * it. Call under the sprite's lock.
   */
  private async stopDead(spriteId: string): Promise<void> {
    this.ctx.log.warn(
      { event: 'sprite.exited', spriteId },
      "the sprite's container exited; it is stopped and boots again on the next request",
    );
    await stopSprite(this.ctx, { id: spriteId }, 'container exited', { graceful: false });
    this.ctx.activity.forget(spriteId);
  }

  stop(spriteId: string, reason: string): Promise<void> {
    return named(
      'stop the sprite',
      this.ctx.locks.run(spriteId, () => stopSprite(this.ctx, { id: spriteId }, reason)),
    );
  }

  /**
   * Moves a sprite onto the platform this daemon runs now (agent, node, tini are bound in
   * from the host at each boot): a running sprite is restarted, a cold one boots onto it
   * next time anyway. The disk is untouched.
   */
  async upgrade(spriteId: string): Promise<void> {
    await named(
      'restart the sprite on the current platform',
      this.ctx.locks.run(spriteId, async () => {
        if (!(await this.ctx.registry.runs.get(spriteId))) return;
        const sprite = await this.ctx.registry.sprites.byId(spriteId);
        if (!sprite) return stopSprite(this.ctx, { id: spriteId }, 'upgrade');
        // It stays live throughout: its place under the organization's limits is kept.
        const ticket = this.admission.hold(sprite);
        try {
          await stopSprite(this.ctx, { id: spriteId }, 'upgrade');
          crashPoint('upgrade.stopped');
          await startSprite(this.ctx, sprite);
        } finally {
          ticket.release();
        }
      }),
    );
  }

  /** Refused (507) while the pool is below its reserve: a checkpoint pins space that deletes would free. */
  createCheckpoint(sprite: SpriteRecord, comment: string | null, progress: Progress): Promise<CheckpointRecord> {
    return named(
      'take a checkpoint',
      this.ctx.quiet.during(async () => {
        await ensureHeadroom(this.ctx, 'take a checkpoint');
        return createCheckpoint(this.ctx, sprite, comment, progress);
      }),
    );
  }

  restoreCheckpoint(sprite: SpriteRecord, checkpointId: string, progress: Progress): Promise<void> {
    return named(
      `restore checkpoint ${checkpointId}`,
      this.ctx.quiet.during(() => restoreCheckpoint(this.ctx, sprite, checkpointId, progress, this.admission)),
    );
  }

  deleteCheckpoint(sprite: SpriteRecord, checkpointId: string): Promise<void> {
    return named(`delete checkpoint ${checkpointId}`, deleteCheckpoint(this.ctx, sprite, checkpointId));
  }

  destroy(sprite: SpriteRecord): Promise<void> {
    return named(`delete sprite ${sprite.name}`, destroySprite(this.ctx, sprite));
  }

  adoptAndReclaim(): Promise<ReclaimSummary> {
    return adoptAndReclaim(this.ctx);
  }

  /** Host path of the agent socket of a running sprite. */
  agentSocket(spriteId: string): string {
    return this.ctx.paths.agentSocket(spriteId);
  }

  /** Records use of a sprite that is known to be awake (it keeps it from idling). */
  touch(spriteId: string): void {
    this.ctx.activity.touch(spriteId);
  }

  /** The network slot of a running sprite (for its policy). */
  async runningSlot(spriteId: string): Promise<{ index: number; hostVeth: string; spriteIp: string } | null> {
    const run = await this.ctx.registry.runs.get(spriteId);
    if (!run) return null;
    const slot = this.ctx.slots.describe(run.netSlot);
    return { index: slot.index, hostVeth: slot.hostVeth, spriteIp: slot.spriteIp };
  }

  /** Every running sprite's slot (to re-apply policies after a daemon restart). */
  async runningSlots(): Promise<{ spriteId: string; slot: { index: number; hostVeth: string; spriteIp: string } }[]> {
    return (await this.ctx.registry.runs.all()).map((r) => {
      const slot = this.ctx.slots.describe(r.netSlot);
      return { spriteId: r.spriteId, slot: { index: slot.index, hostVeth: slot.hostVeth, spriteIp: slot.spriteIp } };
    });
  }

  /**
   * The sprite's current run id as this daemon tracks it in memory (every start, restart,
   * adoption and stop passes through here), or undefined when it does not know: then ask
   * `currentRun`. Cheap enough for every sprite URL request.
   */
  knownRunId(spriteId: string): string | undefined {
    return this.ctx.watch.runIdOf(spriteId);
  }

  /** The sprite's current run and its address (null when it does not run). */
  async currentRun(spriteId: string): Promise<{ runId: string; address: string } | null> {
    const run = await this.ctx.registry.runs.get(spriteId);
    return run ? { runId: run.runId, address: this.ctx.slots.describe(run.netSlot).spriteIp } : null;
  }

  async runningCount(): Promise<number> {
    return (await this.ctx.registry.runs.all()).length;
  }

  /**
   * Daemon shutdown. With `stopSprites` every running sprite is stopped first (disks kept).
   * Host-wide state of this instance (nft table, cgroup parent, pool mount) is released only
   * when no sprite runs any more; otherwise it stays for the next start to re-adopt.
   */
  async shutdown(stopSprites: boolean, releaseShared: () => Promise<void>): Promise<void> {
    if (stopSprites) {
      for (const r of await this.ctx.registry.runs.all()) {
        await this.stop(r.spriteId, 'daemon shutdown').catch((err: unknown) =>
          this.ctx.log.error({ spriteId: r.spriteId, err }, 'stop at shutdown failed'),
        );
      }
    }
    if ((await this.runningCount()) === 0) {
      await removeCgroupTree(this.ctx.paths.cgroupParent);
      await releaseShared();
    }
  }
}

/**
 * A lifecycle operation whose host faults carry its name, so a client reads which of its
 * requests failed on the host and how (host/faults.ts); other errors pass unchanged.
 */
function named<T>(doing: string, operation: Promise<T>): Promise<T> {
  return operation.catch((e: unknown) => {
    throw inContext(e, doing);
  });
}
