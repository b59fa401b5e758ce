import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { run } from '../packages/server/src/host/index.js';
import { helperPath } from '../packages/server/src/host/index.js';
import { prepareAgentRuntime, waitForAgent } from '../packages/server/src/lifecycle/index.js';
import { buildOciConfig, isHybridCgroupHost, removeCgroupTree } from '../packages/server/src/runtime/index.js';
import { sample, summarize, type Summary } from './stats.js';

/**
 * The floors of this machine, measured on the same pool and the same bundle a sprite gets:
 * a raw btrfs snapshot, and a raw `crun run -d` / `runc run -d` of a sprite-shaped bundle,
 * both to "the runtime returned" and to "the agent in it answers".
 */
export interface Floors {
  btrfsSnapshot: Summary;
  runtimes: Record<string, { runReturns: Summary; agentReady: Summary }>;
}

export async function measureFloors(dataDir: string, runs: number): Promise<Floors> {
  const pool = join(dataDir, 'storage', 'pool');
  const image = readdirSync(join(pool, 'images')).find((n) => !n.startsWith('.'));
  if (!image) throw new Error('no base image in the pool: start a daemon on this data dir first');
  const imagePath = join(pool, 'images', image);
  const scratch = join(pool, 'volumes', 'bench-floor');

  const btrfsSnapshot = summarize(
    await sample(runs, 2, async () => {
      await run('btrfs', ['subvolume', 'snapshot', imagePath, scratch]);
      // Deleting is not part of the measured operation in a real create, but it must happen.
      execFileSync('btrfs', ['subvolume', 'delete', scratch], { stdio: 'ignore' });
    }),
  );

  const agent = await prepareAgentRuntime(dataDir);
  const work = join(dataDir, 'bench-floor');
  const rootfs = join(work, 'rootfs');
  mkdirSync(rootfs, { recursive: true });
  // Each run boots a fresh clone, as a create does: first writes into a new snapshot cost.
  const freshRootfs = () => {
    spawnSync('umount', [rootfs], { stdio: 'ignore' });
    spawnSync('btrfs', ['subvolume', 'delete', scratch], { stdio: 'ignore' });
    execFileSync('btrfs', ['subvolume', 'snapshot', imagePath, scratch], { stdio: 'ignore' });
    execFileSync(helperPath(), ['idmap', scratch, rootfs, String(2 ** 28 + 4000 * 65536), '65536']);
  };
  writeFileSync(join(work, 'hosts'), '127.0.0.1 localhost\n');
  writeFileSync(join(work, 'resolv.conf'), 'nameserver 127.0.0.1\n');
  const netns = `bench-floor-${process.pid}`;
  execFileSync('ip', ['netns', 'add', netns]);
  const runtimes: Floors['runtimes'] = {};
  try {
    for (const runtime of ['crun', 'runc']) {
      const prefix = runtime === 'crun' && isHybridCgroupHost() ? [helperPath(), 'hide-unified', '--'] : [];
      const config = buildOciConfig({
        hostname: 'floor',
        rootfs,
        hostIdBase: 2 ** 28 + 4000 * 65536,
        idCount: 65536,
        netnsPath: `/run/netns/${netns}`,
        cgroupsPath: `/sprites-bench/${runtime}`,
        memoryBytes: 256 * 2 ** 20,
        cpus: 1,
        pidsLimit: 256,
        tmpBytes: 64 * 2 ** 20,
        nofile: 1024,
        hostsFile: join(work, 'hosts'),
        resolvFile: join(work, 'resolv.conf'),
        agent,
        env: { SPRITE_NAME: 'floor' },
      });
      writeFileSync(join(work, 'config.json'), JSON.stringify(config));
      const socket = join(work, 'agent.sock');
      const runReturns: number[] = [];
      const agentReady: number[] = [];
      for (let i = -2; i < runs; i++) {
        const id = `bench-floor-${runtime}-${process.pid}-${i + 2}`;
        freshRootfs();
        const t0 = process.hrtime.bigint();
        try {
          await run(
            helperPath(),
            [
              'listen',
              socket,
              '--',
              ...prefix,
              runtime,
              'run',
              '--detach',
              '--preserve-fds',
              '1',
              '--bundle',
              work,
              id,
            ],
            { stdio: ['ignore', 'ignore', 'ignore'] },
          );
          const t1 = process.hrtime.bigint();
          await waitForAgent(socket, 10_000);
          const t2 = process.hrtime.bigint();
          if (i >= 0) {
            runReturns.push(Number(t1 - t0) / 1e6);
            agentReady.push(Number(t2 - t0) / 1e6);
          }
        } finally {
          const [file, ...args] = [...prefix, runtime, 'delete', '--force', id];
          spawnSync(file, args, { stdio: 'ignore' });
        }
      }
      runtimes[runtime] = { runReturns: summarize(runReturns), agentReady: summarize(agentReady) };
    }
  } finally {
    execFileSync('ip', ['netns', 'del', netns], { stdio: 'ignore' });
    spawnSync('umount', [rootfs], { stdio: 'ignore' });
    spawnSync('btrfs', ['subvolume', 'delete', scratch], { stdio: 'ignore' });
    rmSync(work, { recursive: true, force: true });
    await removeCgroupTree('/sprites-bench');
  }
  return { btrfsSnapshot, runtimes };
}
