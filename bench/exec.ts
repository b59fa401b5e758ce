import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { helperPath } from '../packages/server/src/host/index.js';
import { isHybridCgroupHost } from '../packages/server/src/runtime/index.js';
import type { TestDaemon } from '../test/helpers/daemon.js';
import { execInSprite, execUrl, openSocket, type ExecResult } from '../test/helpers/exec.js';
import { pollUntil } from '../test/helpers/ws.js';
import { sample, summarize, timed, type Summary } from './stats.js';

export interface ExecFigures {
  roundTrip: Summary;
  localSpawn: Summary;
  rawRuntimeExec: Summary;
  throughputMBps: number;
  localPipeMBps: number;
  warmWake: Summary;
  coldWake: Summary;
}

/** Runs argv on the exec WebSocket, timing its first stdout byte and its exit; stdout is only counted. */
function execTimed(d: TestDaemon, name: string, argv: string[]): Promise<ExecResult> {
  return execInSprite(d.url, d.adminToken, name, argv, { keepOutput: false, perMessageDeflate: false });
}

function localSpawnTrue(): Promise<void> {
  return new Promise((resolve) => spawn('true', { stdio: 'ignore' }).on('exit', () => resolve()));
}

/**
 * Exec figures on a running sprite next to the floors: a local spawn, a raw runtime exec into
 * the same container, a local pipe; then warm and cold wake, on a daemon with short idle times.
 */
export async function measureExec(d: TestDaemon, runs: number): Promise<ExecFigures> {
  const sprite = await d.createSprite('bench-exec', { ram_mb: 512, storage_gb: 2 });
  const roundTrip = summarize(
    await sample(runs * 10, 5, async () => void (await execTimed(d, 'bench-exec', ['true']))),
  );
  // A command kept open holds the sprite awake (this daemon idles it after 1 s) while the
  // floors are measured against the same container.
  const holder = openSocket(
    execUrl(d.url, 'bench-exec', [
      ['cmd', 'sleep'],
      ['cmd', '3600'],
      ['stdin', 'false'],
    ]),
    d.adminToken,
  );
  await new Promise((resolve, reject) => holder.once('message', resolve).once('error', reject));
  const localSpawn = summarize(await sample(runs * 10, 5, localSpawnTrue));
  const prefix = d.runtime === 'crun' && isHybridCgroupHost() ? [helperPath(), 'hide-unified', '--'] : [];
  const containerId = `spr-${d.instanceId}-${sprite.id}`;
  const rawRuntimeExec = summarize(
    await sample(runs, 2, () => {
      const [file, ...args] = [...prefix, d.runtime, 'exec', containerId, 'true'];
      execFileSync(file, args, { stdio: 'ignore' });
    }),
  );
  // Throughput: one warm-up run, then the median of three, each next to a local pipe.
  const size = 200 * 1000 * 1000;
  const oursMBps: number[] = [];
  const pipeMBps: number[] = [];
  for (let i = 0; i < 4; i++) {
    const ours = await timed(() => execTimed(d, 'bench-exec', ['head', '-c', String(size), '/dev/zero']));
    if (ours.value.stdoutBytes !== size)
      throw new Error(`throughput run lost bytes: ${ours.value.stdoutBytes} of ${size}`);
    const pipe = await timed(() => void spawnSync('bash', ['-c', `head -c ${size} /dev/zero | cat > /dev/null`]));
    if (i === 0) continue;
    oursMBps.push(size / 1e6 / (ours.ms / 1000));
    pipeMBps.push(size / 1e6 / (pipe.ms / 1000));
  }

  holder.close();

  // Warm and cold wake: wait for the idle policy, then time the first output of `echo`.
  const status = async () => (await d.api<{ status: string }>('GET', '/v1/sprites/bench-exec')).body.status;
  const warmWake: number[] = [];
  const coldWake: number[] = [];
  for (let i = 0; i < 5; i++) {
    await pollUntil(async () => (await status()) === 'warm', 30_000, 'warm');
    warmWake.push((await execTimed(d, 'bench-exec', ['echo', 'x'])).firstOutputMs);
  }
  for (let i = 0; i < 3; i++) {
    await pollUntil(async () => (await status()) === 'cold', 60_000, 'cold');
    coldWake.push((await execTimed(d, 'bench-exec', ['echo', 'x'])).firstOutputMs);
  }
  await d.api('DELETE', '/v1/sprites/bench-exec');
  return {
    roundTrip,
    localSpawn,
    rawRuntimeExec,
    throughputMBps: summarize(oursMBps).p50,
    localPipeMBps: summarize(pipeMBps).p50,
    warmWake: summarize(warmWake),
    coldWake: summarize(coldWake),
  };
}
