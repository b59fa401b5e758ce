import type { DaemonConfig } from '../config.js';
import { SpritePaths } from '../lifecycle/index.js';
import type { Logger } from '../log.js';
import { parsePool } from '../network/index.js';
import { loadRuntime } from '../runtime/index.js';
import { claimDataDir, openDataRegistry, publishApiUrl } from './data-dir.js';
import { openNetwork } from './network.js';
import { servePublic } from './public-server.js';
import { adoptAndReclaim, buildSprites, releaseSpares, startIdleSweeps } from './sprites.js';
import { openStorage } from './storage.js';

export interface RunningDaemon {
  url: string;
  adminTokenPath: string;
  /** Stops serving; with stopSprites the running sprites are stopped (disks kept). */
  close(stopSprites: boolean): Promise<void>;
}

/**
 * The composition root: builds each room once, in startup order, and shuts them down in
 * reverse. Each step is a function of this folder; this one only says the order.
 */
export async function startDaemon(config: DaemonConfig, log: Logger): Promise<RunningDaemon> {
  const t0 = Date.now();
  const releaseInstanceLock = await claimDataDir(config);
  const pool = parsePool(config.networkPool);
  const { storage, imageKey } = await openStorage(config, log);
  const { registry, adminTokenPath } = await openDataRegistry(config.dataDir, log);
  const runtime = await loadRuntime(config.runtime);
  const paths = new SpritePaths(config.dataDir, config.instanceId);
  const network = await openNetwork(config, pool, registry, paths, log);
  const sprites = await buildSprites({ config, pool, registry, storage, imageKey, runtime, paths, network }, log);
  const { lifecycle } = sprites;
  await adoptAndReclaim(sprites, network, log);
  const stopIdleSweeps = startIdleSweeps(lifecycle, config);
  const server = await servePublic(
    {
      config,
      registry,
      lifecycle,
      policy: network.policy,
      onClosing: () => {
        network.dnsProxy.close();
        network.enforcer.close();
      },
    },
    log,
  );
  await publishApiUrl(config.dataDir, server.url);
  log.info(
    { event: 'daemon.ready', url: server.url, runtime: runtime.info(), durationMs: Date.now() - t0 },
    `spritesd listening on ${server.url} (runtime ${runtime.info().name} ${runtime.info().version})`,
  );

  const shutdown = async (stopSprites: boolean) => {
    const step = (what: string) => log.info({ event: 'daemon.shutdown', step: what }, `shutdown: ${what}`);
    stopIdleSweeps();
    await server.close();
    step('API closed');
    await releaseSpares(sprites);
    step('spare pools released');
    const left = await sprites.background.drain();
    if (left > 0)
      log.warn(
        { event: 'daemon.shutdown', left },
        `shutdown: ${left} background disk deletion(s) left for the next start to finish`,
      );
    // Host state goes last, and only once the sprites that use it are settled.
    await lifecycle.shutdown(stopSprites, async () => {
      await network.nft.remove();
      await registry.db.destroy();
      await storage.unmount();
    });
    step('sprites and host state settled');
    await registry.db.destroy().catch(() => undefined);
    releaseInstanceLock();
  };
  let closing: Promise<void> | null = null;
  return {
    url: server.url,
    adminTokenPath,
    close: (stopSprites) => (closing ??= shutdown(stopSprites)),
  };
}
