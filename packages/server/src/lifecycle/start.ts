import { randomUUID } from 'node:crypto';
import { chmod, chown, mkdir, rm, writeFile } from 'node:fs/promises';
import { crashPoint, helperPath, run, UndoStack, unmount, unmountAll } from '../host/index.js';
import type { RunRecord, SpriteRecord } from '../registry/index.js';
import { buildOciConfig } from '../runtime/index.js';
import { waitForAgent } from './agent-client.js';
import type { LifecycleContext } from './context.js';
import { hostIdBase, ID_RANGE_SIZE } from './paths.js';
import { releaseRun } from './stop.js';

export const AGENT_READY_TIMEOUT_MS = 15_000;
const MIB = 2 ** 20;

/** What a boot needs to know of a sprite (a pre-booted one gets a placeholder name). */
export type BootIdentity = Pick<SpriteRecord, 'id' | 'name' | 'config' | 'environment'>;

/** Boots a cold sprite and records it as running. Call under the sprite's lock. */
export async function startSprite(ctx: LifecycleContext, sprite: SpriteRecord): Promise<void> {
  const runRecord = await bootRun(ctx, sprite);
  try {
    await ctx.registry.runs.put(runRecord);
    crashPoint('start.recorded');
    await ctx.registry.sprites.setStatus(sprite.id, 'running');
  } catch (e) {
    await releaseRun(ctx, sprite.id, runRecord, false).catch(() => undefined);
    throw e;
  }
}

/**
 * Boots a container on the sprite's existing volume: network slot, id range, idmapped root
 * filesystem, container, agent; returns what the run holds. Writes nothing to the registry.
 * Each acquisition registers its undo at once, so a failure at any step leaves nothing
 * behind.
 */
export async function bootRun(ctx: LifecycleContext, sprite: BootIdentity): Promise<RunRecord> {
  const started = Date.now();
  const runId = randomUUID();
  const { paths } = ctx;
  await using undo = new UndoStack((err) =>
    ctx.log.error({ spriteId: sprite.id, err }, 'cleanup after a failed start did not finish'),
  );
  const phases: Record<string, number> = {};
  let mark = Date.now();
  const phase = (name: string) => {
    const now = Date.now();
    phases[name] = now - mark;
    mark = now;
  };
  try {
    // A pre-built network namespace from the spare pool; its claim passes to this sprite.
    const slot = await ctx.spareSlots.take();
    const netSlot = slot.index;
    undo.push('retire network slot', () => ctx.allocator.retireNetwork(netSlot));
    await ctx.allocator.assignNetwork(netSlot, sprite.id);
    crashPoint('start.network');
    const idSlot = await ctx.allocator.acquireIds(sprite.id);
    // Unwound after the container and mounts are gone: only then is the range given back.
    undo.push('retire id range', () => ctx.allocator.retireIds(idSlot, sprite.id));
    phase('claimsMs');

    const runDir = paths.runDir(sprite.id);
    const idBase = hostIdBase(idSlot);
    await mkdir(paths.rootfs(sprite.id), { recursive: true, mode: 0o711 });
    undo.push('remove run dir', () => rm(runDir, { recursive: true, force: true }));
    await closeRunDir(runDir, idBase);

    phase('networkMs');

    await run(helperPath(), [
      'idmap',
      ctx.storage.volumePath(sprite.id),
      paths.rootfs(sprite.id),
      String(idBase),
      String(ID_RANGE_SIZE),
    ]);
    undo.push('unmount rootfs', () => unmount(paths.rootfs(sprite.id)));
    crashPoint('start.rootfs');
    phase('rootfsMs');

    // The directory of the sprite's named checkpoints, read-only with the sprite's own ids:
    // one mount for the whole run, through which every checkpoint taken later appears too.
    const view = paths.checkpointsView(sprite.id);
    await mkdir(view, { recursive: true, mode: 0o755 });
    await run(helperPath(), [
      'idmap',
      '-r',
      await ctx.storage.browsableCheckpoints(sprite.id),
      view,
      String(idBase),
      String(ID_RANGE_SIZE),
    ]);
    undo.push('unmount checkpoint views', () => unmountAll(view));

    await writeFile(paths.hostsFile(sprite.id), hostsFile(sprite.name, slot.spriteIp), { mode: 0o644 });
    await writeFile(paths.resolvFile(sprite.id), ctx.resolvConf, { mode: 0o644 });
    const ramBytes = sprite.config.ram_mb * MIB;
    const oci = buildOciConfig({
      hostname: sprite.name,
      rootfs: paths.rootfs(sprite.id),
      hostIdBase: idBase,
      idCount: ID_RANGE_SIZE,
      netnsPath: slot.netnsPath,
      cgroupsPath: paths.cgroupPath(sprite.id),
      memoryBytes: ramBytes,
      cpus: sprite.config.cpus,
      pidsLimit: ctx.config.limits.pidsPerSprite,
      tmpBytes: Math.max(16 * MIB, Math.floor(ramBytes / 2)),
      nofile: ctx.nofile,
      hostsFile: paths.hostsFile(sprite.id),
      resolvFile: paths.resolvFile(sprite.id),
      checkpointsView: view,
      policyDir: ctx.policy ? paths.policyDir(sprite.id) : undefined,
      agent: ctx.agent,
      env: { SPRITE_NAME: sprite.name, SPRITE_ID: sprite.id, SPRITE_ENVIRONMENT: JSON.stringify(sprite.environment) },
    });
    await writeFile(`${runDir}/config.json`, JSON.stringify(oci), { mode: 0o600 });

    const containerId = paths.containerId(sprite.id);
    undo.push('delete container', () => ctx.runtime.delete(containerId));
    // Its network policy holds before the sprite's first packet (and shows at /.sprite/policy).
    if (ctx.policy) {
      await ctx.policy.attach(sprite.id, { index: slot.index, hostVeth: slot.hostVeth, spriteIp: slot.spriteIp });
      undo.push('lift network policy', () => ctx.policy?.detach(sprite.id));
    }
    phase('bundleMs');
    await ctx.runtime.start(containerId, runDir, {
      agentSocket: paths.agentSocket(sprite.id),
      consoleLog: paths.consoleLog(sprite.id),
    });
    phase('runtimeMs');
    crashPoint('start.container');
    await waitForAgent(paths.agentSocket(sprite.id), AGENT_READY_TIMEOUT_MS);
    phase('agentMs');
    ctx.watch.started(sprite.id, runId, await ctx.runtime.state(containerId));

    undo.commit();
    ctx.log.info(
      { event: 'sprite.start', spriteId: sprite.id, runId, outcome: 'ok', durationMs: Date.now() - started, phases },
      'sprite started',
    );
    return { spriteId: sprite.id, runId, netSlot, idSlot, startedAt: new Date().toISOString() };
  } catch (e) {
    ctx.log.warn(
      { event: 'sprite.start', spriteId: sprite.id, runId, outcome: 'error', err: e, durationMs: Date.now() - started },
      'sprite failed to start',
    );
    throw e;
  }
}

/**
 * The run dir holds the sprite's idmapped root filesystem and checkpoint views: host users
 * other than root must not get through it (DESIGN 5.7), yet the runtime, working as the
 * sprite's root inside its user namespace, must. So it belongs to root and to the group of
 * the sprite's root (host gid `idBase`), mode 0710.
 */
export async function closeRunDir(runDir: string, idBase: number): Promise<void> {
  await chown(runDir, 0, idBase);
  await chmod(runDir, 0o710);
}

export function hostsFile(name: string, ip: string): string {
  return `127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n${ip}\t${name}\n127.0.1.1\t${name}\n`;
}
