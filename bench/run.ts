/**
 * npm run bench: our figures next to the floors of this machine and the peer, in one run,
 * as ratios. Prints a table and writes bench/results/<time>.json.
 *
 *   BENCH_SPRITES=100   sprites created for the density figures
 *   BENCH_RUNS=20       timed repetitions of each floor
 */
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TestDaemon } from '../test/helpers/daemon.js';
import { measureCheckpoints } from './checkpoint.js';
import { measureCreate } from './create.js';
import { measureExec } from './exec.js';
import { measureFs } from './fs.js';
import { measureFloors } from './floors.js';
import { measurePodman } from './podman.js';
import { measureSdk } from './sdk.js';
import { measureCli } from './cli.js';
import { measureUrl } from './url.js';
import { measurePolicy } from './policy.js';
import { summarize, type Summary } from './stats.js';

const SPRITES = Number(process.env.BENCH_SPRITES ?? 100);
const RUNS = Number(process.env.BENCH_RUNS ?? 20);

function row(name: string, s: Summary | undefined, note = ''): string {
  if (!s) return `${name.padEnd(52)} ${'—'.padStart(9)} ${note}`;
  return `${name.padEnd(52)} ${s.p50.toFixed(1).padStart(9)} ${s.p90.toFixed(1).padStart(9)} ${s.min.toFixed(1).padStart(9)}  ${note}`;
}

async function main(): Promise<void> {
  const daemon = new TestDaemon({ env: { SPRITES_LOG_LEVEL: 'info' } });
  const results: Record<string, unknown> = { date: new Date().toISOString(), sprites: SPRITES, runs: RUNS };
  try {
    process.stderr.write('bench: starting a daemon (builds the base image on first use)\n');
    await daemon.start();
    const image = readdirImage(daemon.dataDir);

    process.stderr.write('bench: floors (raw btrfs snapshot, raw crun/runc run of a sprite bundle)\n');
    const floors = await measureFloors(daemon.dataDir, RUNS);
    process.stderr.write('bench: peer (podman run)\n');
    const podman = await measurePodman(image, RUNS);
    process.stderr.write(`bench: creating ${SPRITES} sprites through the API\n`);
    const ours = await measureCreate(daemon, SPRITES);
    process.stderr.write('bench: filesystem API (1 GB write and read, 4 KB calls)\n');
    const fs = await measureFs(daemon, RUNS);
    process.stderr.write('bench: exec, throughput, warm and cold wake (a daemon with 1 s / 4 s idle times)\n');
    const execDaemon = new TestDaemon({
      env: { SPRITES_IDLE_WARM_SECONDS: '1', SPRITES_IDLE_COLD_SECONDS: '4', SPRITES_PREBOOTED: '0' },
    });
    let exec;
    try {
      await execDaemon.start();
      exec = await measureExec(execDaemon, RUNS);
    } finally {
      await execDaemon.destroy();
    }
    const sdkCommands = Number(process.env.BENCH_SDK_COMMANDS ?? 10_000);
    process.stderr.write(`bench: SDK exec round trip next to a raw WebSocket; heap after ${sdkCommands} commands\n`);
    const sdk = await measureSdk(daemon, RUNS * 10, sdkCommands);
    process.stderr.write('bench: CLI start-up (`sprite exec -- true`) next to the SDK round trip\n');
    const cli = await measureCli(daemon, RUNS);
    process.stderr.write('bench: sprite URL and TCP tunnel next to direct access; service restart\n');
    const url = await measureUrl(daemon, RUNS);
    process.stderr.write(
      'bench: network policy: lookups, connects and round trips with and without (a daemon of its own)\n',
    );
    const policy = await measurePolicy(RUNS, summarize);
    const gigabytes = Number(process.env.BENCH_CHECKPOINT_GB ?? 5);
    process.stderr.write(`bench: checkpoints and restores (a fresh sprite, one with ${gigabytes} GB written)\n`);
    const cpDaemon = new TestDaemon({
      extraArgs: ['--pool-size', `${gigabytes * 2 + 8}G`],
      env: { SPRITES_PREBOOTED: '0' },
    });
    let checkpoints;
    try {
      await cpDaemon.start();
      checkpoints = await measureCheckpoints(cpDaemon, RUNS, gigabytes);
    } finally {
      await cpDaemon.destroy();
    }
    Object.assign(results, { floors, podman, ours, exec, fs, checkpoints, sdk, cli, url, policy });

    const runtime = daemon.runtime;
    const raw = floors.runtimes[runtime]!;
    const ratios = {
      createVsRawAgentReady: ours.create.p50 / raw.agentReady.p50,
      burstVsRawAgentReady: ours.burstCreate.p50 / raw.agentReady.p50,
      createVsRawRunReturns: ours.create.p50 / raw.runReturns.p50,
      createVsPodmanRunRm: 'runRm' in podman ? ours.create.p50 / podman.runRm.p50 : null,
      createVsPodmanRunDetached: 'runDetached' in podman ? ours.create.p50 / podman.runDetached.p50 : null,
    };
    results.ratios = ratios;

    const lines = [
      '',
      `Sprites, self-hosted: bench ${results.date as string} (runtime ${runtime}, ${RUNS} runs per floor, ${SPRITES} sprites)`,
      `${'operation (ms)'.padEnd(52)} ${'p50'.padStart(9)} ${'p90'.padStart(9)} ${'min'.padStart(9)}`,
      row('floor: btrfs subvolume snapshot (CLI)', floors.btrfsSnapshot),
      ...Object.entries(floors.runtimes).flatMap(([name, r]) => [
        row(`floor: ${name} run -d of a sprite bundle → returns`, r.runReturns),
        row(`floor: ${name} run -d of a sprite bundle → agent ready`, r.agentReady),
      ]),
      'runRm' in podman
        ? row(`peer: podman run --rm --network none IMG true`, podman.runRm, podman.version)
        : row('peer: podman run', undefined, podman.skipped),
      'runDetached' in podman ? row(`peer: podman run -d --network none IMG sleep`, podman.runDetached) : '',
      row(
        'ours: POST /v1/sprites → 201 (running, agent ready)',
        ours.create,
        `20 creates 0.4 s apart, ${ours.prebooted.spaced} pre-booted`,
      ),
      row(
        'ours: the same, back to back (pools run dry)',
        ours.burstCreate,
        `${Math.max(0, SPRITES - 20)} creates, ${ours.prebooted.burst} pre-booted`,
      ),
      row('ours: first exec round trip after create', ours.firstExec),
      row('ours: DELETE /v1/sprites/{name} → 204', ours.remove),
      '',
      `ratios (p50): create / raw ${runtime} to agent ready = ${ratios.createVsRawAgentReady.toFixed(2)}× (target < 2×); back to back ${ratios.burstVsRawAgentReady.toFixed(2)}×`,
      `              create / raw ${runtime} run returns    = ${ratios.createVsRawRunReturns.toFixed(2)}×`,
      ratios.createVsPodmanRunRm !== null
        ? `              create / podman run --rm       = ${ratios.createVsPodmanRunRm.toFixed(2)}× (target < 0.3×)`
        : '              podman: skipped',
      ratios.createVsPodmanRunDetached !== null
        ? `              create / podman run -d         = ${ratios.createVsPodmanRunDetached.toFixed(2)}×`
        : '',
      `memory per idle running sprite: ${ours.memory.memAvailableDropPerSpriteMb.toFixed(1)} MB of MemAvailable, ${ours.memory.cgroupChargePerSpriteMb.toFixed(1)} MB cgroup charge, ${ours.memory.agentPssMb.toFixed(1)} MB agent PSS (target < 15 MB)`,
      `create of ${SPRITES}: ${ours.totalCreateSeconds.toFixed(1)} s in all, pauses included`,
      '',
      row(
        'ours: exec `true` round trip (new WebSocket each)',
        exec.roundTrip,
        `p99 from ${exec.roundTrip.n} runs in JSON`,
      ),
      row('floor: local spawn(true) from Node', exec.localSpawn),
      row(`floor: ${runtime} exec into the same container`, exec.rawRuntimeExec),
      'exec' in podman ? row('peer: podman exec CID true', podman.exec) : '',
      row('ours: warm wake → first output', exec.warmWake, 'target < 10 ms'),
      row(
        'ours: cold wake → first output',
        exec.coldWake,
        `target < 150 ms; ${(exec.coldWake.p50 / raw.agentReady.p50).toFixed(2)}× raw ${runtime} run to agent ready`,
      ),
      `exec round trip p50 / raw ${runtime} exec = ${(exec.roundTrip.p50 / exec.rawRuntimeExec.p50).toFixed(2)}×${'exec' in podman ? `, / podman exec = ${(exec.roundTrip.p50 / podman.exec.p50).toFixed(3)}× (target ≤ 0.05×)` : ''}; target < 5 ms`,
      '',
      `fs write of 1 GB ${fs.writeMBps.toFixed(0)} MB/s vs cp --reflink=never + sync ${fs.cpMBps.toFixed(0)} MB/s = ${((fs.writeMBps / fs.cpMBps) * 100).toFixed(0)}% (target ≥ 50%)`,
      `fs read of 1 GB ${fs.readMBps.toFixed(0)} MB/s vs cp ${fs.cpMBps.toFixed(0)} MB/s = ${((fs.readMBps / fs.cpMBps) * 100).toFixed(0)}% (target ≥ 50%); cat of a cached 1 GB file: ${fs.catMBps.toFixed(0)} MB/s`,
      row('ours: fs/read of 4 KB', fs.read4k, 'target < 3 ms p50'),
      row('ours: fs/write of 4 KB (durable)', fs.write4k),
      '',
      row('ours: checkpoint, fresh sprite (POST → complete)', checkpoints.fresh.checkpoint, 'target < 20 ms'),
      row(
        `ours: checkpoint, ${checkpoints.written.gigabytes} GB written`,
        checkpoints.written.checkpoint,
        'target < 20 ms',
      ),
      row(`floor: btrfs subvolume snapshot -r of that volume (CLI)`, checkpoints.rawSnapshot),
      row('ours: restore → first output, fresh sprite', checkpoints.fresh.restoreToFirstOutput, 'target < 150 ms'),
      row(
        `ours: restore → first output, ${checkpoints.written.gigabytes} GB written`,
        checkpoints.written.restoreToFirstOutput,
        'target < 150 ms',
      ),
      '',
      row("ours: SDK execFile('true') round trip", sdk.sdkRoundTrip),
      row('floor: the same over a bare ws WebSocket (interleaved)', sdk.rawRoundTrip),
      `SDK overhead p50 ${(sdk.sdkRoundTrip.p50 - sdk.rawRoundTrip.p50).toFixed(2)} ms (target < 1 ms); heap after 1,000 commands ${sdk.heapAfter1kMb.toFixed(1)} MB, after ${sdk.commands} ${sdk.heapAfterAllMb.toFixed(1)} MB${sdk.gcAvailable ? '' : ' (no --expose-gc: heap figures include garbage)'} (target: no growth)`,
      row('ours: `sprite exec -- true` (CLI, start-up included)', cli.cliExec, 'target < 150 ms'),
      row("ours: SDK execFile('true') in the same run", cli.sdkExec),
      row('floor: node -e 0', cli.nodeStart),
      row('ours: GET through the sprite URL (keep-alive)', url.urlLatency),
      row('floor: the same GET straight to the app in the sprite', url.directLatency),
      `URL adds ${(url.urlLatency.p50 - url.directLatency.p50).toFixed(2)} ms p50 (target < 1 ms); ${url.urlRps.toFixed(0)} req/s through the URL vs ${url.directRps.toFixed(0)} direct (16 connections)`,
      `TCP tunnel ${url.tunnelMBps.toFixed(0)} MB/s vs direct TCP ${url.directTcpMBps.toFixed(0)} MB/s = ${((url.tunnelMBps / url.directTcpMBps) * 100).toFixed(0)}% (target ≥ 50%)`,
      row('ours: service restart (restartService → running)', url.serviceRestart),
      row('ours: DNS lookup from a sprite, with a policy (proxy)', policy.lookupPolicy),
      row('floor: the same lookup straight to the resolver', policy.lookupOpen),
      row('ours: TCP connect + greeting, with a policy', policy.connectPolicy),
      row('floor: the same without a policy', policy.connectOpen),
      `policy adds ${(policy.lookupPolicy.p50 - policy.lookupOpen.p50).toFixed(2)} ms p50 to a lookup (target < 1 ms), ${(policy.connectPolicy.p50 - policy.connectOpen.p50).toFixed(2)} ms to a connect, ${(policy.roundTripPolicy.p50 - policy.roundTripOpen.p50).toFixed(3)} ms to a round trip on an open connection (${policy.roundTripPolicy.p50.toFixed(3)} vs ${policy.roundTripOpen.p50.toFixed(3)}; target: nothing measurable)`,
      `stdout throughput ${exec.throughputMBps.toFixed(0)} MB/s vs local pipe ${exec.localPipeMBps.toFixed(0)} MB/s = ${((exec.throughputMBps / exec.localPipeMBps) * 100).toFixed(0)}% (target ≥ 50%)`,
    ].filter((l) => l !== '');
    process.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    await daemon.destroy();
  }
  const dir = join(process.cwd(), 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${(results.date as string).replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
  process.stdout.write(`results written to ${file}\n`);
}

/** The host-cache root filesystem behind the pool's base image (what podman imports too). */
function readdirImage(dataDir: string): string {
  const cache = process.env.SPRITES_IMAGE_CACHE ?? '/var/cache/sprites/images';
  const key = readdirSync(join(dataDir, 'storage', 'pool', 'images')).find((n) => !n.startsWith('.'));
  if (!key) throw new Error('the daemon has no base image');
  return join(cache, key, 'rootfs');
}

main().catch((e: unknown) => {
  process.stderr.write(`bench failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
