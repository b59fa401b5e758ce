import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { run } from '../packages/server/src/host/index.js';
import { sample, summarize, type Summary } from './stats.js';

export interface PodmanResult {
  version: string;
  runRm: Summary;
  runDetached: Summary;
  exec: Summary;
}

/**
 * The peer a user would pick instead: `podman run` of the same root filesystem, set up as
 * ../shared/spec/PEERS.md found necessary on this kind of host (runc, cgroupfs, rlimits
 * within the host's, state kept in a temporary directory). Null when podman is missing.
 */
export async function measurePodman(rootfs: string, runs: number): Promise<PodmanResult | { skipped: string }> {
  if (spawnSync('podman', ['--version']).status !== 0)
    return { skipped: 'podman is not installed (apt-get install podman)' };
  const dir = mkdtempSync('/tmp/spr-bench-podman-');
  const env = {
    ...process.env,
    CONTAINERS_CONF: join(dir, 'containers.conf'),
    CONTAINERS_STORAGE_CONF: join(dir, 'storage.conf'),
    TMPDIR: dir,
  };
  writeFileSync(
    env.CONTAINERS_CONF,
    `[containers]\ndefault_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]\n[engine]\ncgroup_manager = "cgroupfs"\nevents_logger = "file"\nevents_logfile_path = "${dir}/events.log"\nruntime = "runc"\ntmp_dir = "${dir}/libpod"\nvolume_path = "${dir}/volumes"\n[network]\nnetwork_config_dir = "${dir}/networks"\n`,
  );
  writeFileSync(
    env.CONTAINERS_STORAGE_CONF,
    `[storage]\ndriver = "overlay"\nrunroot = "${dir}/runroot"\ngraphroot = "${dir}/storage"\n`,
  );
  const podman = (args: string[]) => run('podman', args, { env, timeoutMs: 120_000 });
  try {
    const version = (await podman(['--version'])).stdout.trim();
    execFileSync('sh', ['-c', `tar -C '${rootfs}' -c . | podman import - sprites-bench/base >/dev/null`], { env });
    const runRm = summarize(
      await sample(
        runs,
        2,
        async () => void (await podman(['run', '--rm', '--network', 'none', 'sprites-bench/base', 'true'])),
      ),
    );
    const ids: string[] = [];
    const runDetached = summarize(
      await sample(runs, 1, async () => {
        const { stdout } = await podman(['run', '-d', '--network', 'none', 'sprites-bench/base', 'sleep', 'infinity']);
        ids.push(stdout.trim());
      }),
    );
    const exec = summarize(await sample(runs, 2, async () => void (await podman(['exec', ids[0]!, 'true']))));
    if (ids.length > 0) await podman(['rm', '-f', '-t', '0', ...ids]);
    return { version, runRm, runDetached, exec };
  } finally {
    // Only what this run made: never touch other podman containers or images on the host.
    spawnSync('podman', ['rmi', '-f', 'sprites-bench/base'], { env, stdio: 'ignore' });
    spawnSync('umount', ['-R', join(dir, 'storage', 'overlay')], { stdio: 'ignore' });
    // podman's helpers may still be writing into the run root for a moment.
    rmSync(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 });
  }
}
