import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import type { TestDaemon } from '../test/helpers/daemon.js';
import { summarize, timed, type Summary } from './stats.js';

export interface CheckpointResult {
  fresh: { checkpoint: Summary; restoreToFirstOutput: Summary };
  written: { gigabytes: number; checkpoint: Summary; restoreToFirstOutput: Summary };
  /** `btrfs subvolume snapshot -r` of the same volume, by hand, in the same run. */
  rawSnapshot: Summary;
}

async function postStream(d: TestDaemon, path: string, body?: string): Promise<void> {
  const res = await fetch(`${d.url}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${d.adminToken}`, 'content-type': 'application/json' },
    body,
  });
  const text = await res.text();
  if (res.status !== 200 || !text.includes('"type":"complete"')) throw new Error(`${path}: ${res.status} ${text}`);
}

/** The first stdout byte of `echo` through exec (the sprite is booting after a restore). */
async function firstOutput(d: TestDaemon, sprite: string): Promise<void> {
  const r = await d.exec(sprite, ['echo', 'up']);
  if (r.stdout !== 'up\n') throw new Error(`exec after restore printed ${JSON.stringify(r.stdout)}`);
}

async function measureOne(
  d: TestDaemon,
  sprite: string,
  runs: number,
): Promise<{ checkpoint: Summary; restoreToFirstOutput: Summary }> {
  const checkpoint: number[] = [];
  for (let i = 0; i < runs; i++)
    checkpoint.push((await timed(() => postStream(d, `/v1/sprites/${sprite}/checkpoint`, '{}'))).ms);
  const restoreToFirstOutput: number[] = [];
  for (let i = 0; i < Math.min(runs, 10); i++) {
    restoreToFirstOutput.push(
      (
        await timed(async () => {
          await postStream(d, `/v1/sprites/${sprite}/checkpoints/v0/restore`);
          await firstOutput(d, sprite);
        })
      ).ms,
    );
  }
  return { checkpoint: summarize(checkpoint), restoreToFirstOutput: summarize(restoreToFirstOutput) };
}

/**
 * Checkpoint and restore (to the first output of a command) of a fresh sprite and of one
 * with several GB written, next to a raw read-only btrfs snapshot of the same volume.
 */
export async function measureCheckpoints(d: TestDaemon, runs: number, gigabytes: number): Promise<CheckpointResult> {
  await d.createSprite('bench-cp-fresh', { ram_mb: 256, storage_gb: 1 });
  const big = await d.createSprite('bench-cp-big', { ram_mb: 512, storage_gb: gigabytes + 2 });
  try {
    const freshResult = await measureOne(d, 'bench-cp-fresh', runs);
    const filled = await d.exec('bench-cp-big', [
      'sh',
      '-c',
      `for i in $(seq ${gigabytes}); do head -c 1G /dev/urandom > /home/sprite/data-$i || exit 1; done; sync; echo done`,
    ]);
    if (filled.stdout !== 'done\n') throw new Error(`could not write ${gigabytes} GB: ${filled.stderr}`);
    const writtenResult = await measureOne(d, 'bench-cp-big', runs);

    const pool = join(d.dataDir, 'storage', 'pool');
    const rawSnapshot: number[] = [];
    for (let i = 0; i < runs; i++) {
      const target = join(pool, `bench-raw-snapshot-${i}`);
      rawSnapshot.push(
        (
          await timed(
            () =>
              void execFileSync('btrfs', ['subvolume', 'snapshot', '-r', join(pool, 'volumes', big.id), target], {
                stdio: 'ignore',
              }),
          )
        ).ms,
      );
      execFileSync('btrfs', ['subvolume', 'delete', target], { stdio: 'ignore' });
    }
    return { fresh: freshResult, written: { gigabytes, ...writtenResult }, rawSnapshot: summarize(rawSnapshot) };
  } finally {
    await d.api('DELETE', `/v1/sprites/bench-cp-fresh`);
    await d.api('DELETE', `/v1/sprites/bench-cp-big`);
  }
}
