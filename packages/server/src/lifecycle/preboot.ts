import { randomUUID } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { AGENT_INTERNAL_PATHS, type SpriteConfig } from '@sprites/protocol';
import { crashPoint, run, SparePool, UndoStack } from '../host/index.js';
import type { RunRecord, SpriteRecord } from '../registry/index.js';
import type { QuotaGroup } from '../storage/index.js';
import { agentRequest } from './agent-client.js';
import type { LifecycleContext } from './context.js';
import type { CreateSpriteInput } from './create.js';
import { CPU_PERIOD_US, writeCgroupLimits } from '../runtime/index.js';
import { bootRun, hostsFile } from './start.js';
import { releaseRun } from './stop.js';

const GIB = 2 ** 30;
const MIB = 2 ** 20;
const PLACEHOLDER_NAME = 'sprite';

/** A sprite booted ahead of time on a fresh clone of the base image, not yet anyone's. */
export interface Prebooted {
  id: string;
  run: RunRecord;
  /** Host pid of its init, for entering its UTS namespace. */
  pid: number;
  config: Required<SpriteConfig>;
  /** Quota group of its volume. */
  quotaGroup: QuotaGroup;
}

export function defaultSpriteConfig(ctx: LifecycleContext): Required<SpriteConfig> {
  const d = ctx.config.defaults;
  return { ram_mb: d.ramMb, cpus: d.cpus, storage_gb: d.storageGb, region: d.region };
}

/**
 * Sprites booted before anyone asks (as Sprites keeps a warm pool): a create that finds one
 * only renames it, sets its limits and tells its agent who it is. They hold ordinary run
 * resources under their future sprite id, so startup reclaim removes them like any run
 * without a registry row, and `close()` discards them.
 */
export function createPrebootPool(
  ctx: LifecycleContext,
  size: number,
  whenQuiet: () => Promise<void>,
): SparePool<Prebooted> {
  return new SparePool<Prebooted>(
    size,
    async () => {
      const id = randomUUID();
      const config = defaultSpriteConfig(ctx);
      await using undo = new UndoStack((err) =>
        ctx.log.warn({ spriteId: id, err }, 'cleanup after a failed pre-boot did not finish'),
      );
      const spare = await ctx.spareVolumes.take();
      undo.push('delete volume', () => ctx.storage.deleteVolume(spare));
      await ctx.storage.renameVolume(spare, id);
      undo.push('delete volume', () => ctx.storage.deleteVolume(id));
      const quotaGroup = await ctx.storage.setQuota(id, config.storage_gb * GIB);
      undo.push('delete volume, quota group and checkpoint directories', () =>
        ctx.storage.destroyVolume(id, quotaGroup),
      );
      const runRecord = await bootRun(ctx, { id, name: PLACEHOLDER_NAME, config, environment: {} });
      undo.push('release run', () => releaseRun(ctx, id, runRecord, false));
      crashPoint('preboot.booted');
      const state = await ctx.runtime.state(ctx.paths.containerId(id));
      if (!state?.pid) throw new Error(`pre-booted container ${id} is not running`);
      undo.commit();
      return { id, run: runRecord, pid: state.pid, config, quotaGroup };
    },
    async (p) => {
      await releaseRun(ctx, p.id, p.run, false);
      await ctx.storage.destroyVolume(p.id, p.quotaGroup);
    },
    (err) => ctx.log.warn({ err }, 'could not pre-boot a sprite; creates boot their own'),
    whenQuiet,
  );
}

/**
 * Turns a pre-booted sprite into the one being created: registry row under its id, then
 * quota, limits, host name, /etc/hosts and the agent's identity. Any failure discards it.
 */
export async function claimPrebooted(
  ctx: LifecycleContext,
  pre: Prebooted,
  input: CreateSpriteInput,
): Promise<SpriteRecord> {
  const started = Date.now();
  const phases: Record<string, number> = {};
  let mark = started;
  const phase = (name: string) => {
    phases[name] = Date.now() - mark;
    mark = Date.now();
  };
  await using undo = new UndoStack((err) =>
    ctx.log.error({ spriteId: pre.id, err }, 'cleanup after a failed pre-booted create did not finish'),
  );
  undo.push('discard pre-booted sprite', async () => {
    await releaseRun(ctx, pre.id, pre.run, false);
    await ctx.storage.destroyVolume(pre.id, pre.quotaGroup);
  });
  await ctx.registry.sprites.insert({
    id: pre.id,
    ...input,
    status: 'cold',
    imageKey: ctx.imageKey,
    quotaGroup: pre.quotaGroup,
  });
  undo.push('remove registry row', () => ctx.registry.sprites.remove(pre.id));
  crashPoint('preboot.registered');
  phase('registryMs');
  await ctx.locks.run(pre.id, async () => {
    const want = input.config;
    // Independent of each other: run them side by side.
    await Promise.all([
      want.storage_gb !== pre.config.storage_gb
        ? ctx.storage.setQuota(pre.id, want.storage_gb * GIB, pre.quotaGroup)
        : undefined,
      writeCgroupLimits(
        ctx.paths.cgroupPath(pre.id),
        { memoryBytes: want.ram_mb * MIB, cpus: want.cpus, pidsLimit: ctx.config.limits.pidsPerSprite },
        CPU_PERIOD_US,
      ),
      run('nsenter', ['--target', String(pre.pid), '--uts', 'hostname', input.name]),
      // The file is bind-mounted into the sprite: rewrite it in place (same inode).
      writeFile(ctx.paths.hostsFile(pre.id), hostsFile(input.name, ctx.slots.describe(pre.run.netSlot).spriteIp)),
      agentRequest(ctx.paths.agentSocket(pre.id), 'POST', AGENT_INTERNAL_PATHS.identity, {
        timeoutMs: 5000,
        body: { name: input.name, environment: input.environment },
      }).then((told) => {
        if (told.status !== 200) throw new Error(`the agent refused its identity: ${told.status} ${told.body}`);
      }),
    ]);
    phase('identityMs');
    crashPoint('preboot.identified');
    await ctx.registry.runs.put(pre.run);
    await ctx.registry.sprites.setStatus(pre.id, 'running');
  });
  undo.commit();
  ctx.log.info(
    {
      event: 'sprite.create',
      spriteId: pre.id,
      name: input.name,
      prebooted: true,
      outcome: 'ok',
      durationMs: Date.now() - started,
      phases,
    },
    'sprite created',
  );
  const record = await ctx.registry.sprites.byId(pre.id);
  if (!record) throw new Error(`sprite ${pre.id} disappeared during create`);
  return record;
}
