import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { TestDaemon } from '../test/helpers/daemon.js';
import { sample, summarize, timed, type Summary } from './stats.js';

export interface FsResult {
  writeMBps: number;
  readMBps: number;
  cpMBps: number;
  catMBps: number;
  read4k: Summary;
  write4k: Summary;
}

const SIZE = 1024 * 1024 * 1024;

function chunks(total: number): Readable {
  const block = Buffer.alloc(1024 * 1024);
  for (let o = 0; o < block.length; o += 32) createHash('sha256').update(String(o)).digest().copy(block, o);
  return Readable.from(
    (function* () {
      for (let sent = 0; sent < total; sent += block.length)
        yield block.subarray(0, Math.min(block.length, total - sent));
    })(),
  );
}

function put(d: TestDaemon, sprite: string, path: string, body: Readable | Buffer): Promise<number> {
  return new Promise((resolve, reject) => {
    const url = `${d.url}/v1/sprites/${sprite}/fs/write?path=${encodeURIComponent(path)}`;
    const req = request(
      url,
      {
        method: 'PUT',
        headers: { authorization: `Bearer ${d.adminToken}`, 'content-type': 'application/octet-stream' },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    if (Buffer.isBuffer(body)) req.end(body);
    else body.pipe(req);
  });
}

async function read(d: TestDaemon, sprite: string, path: string): Promise<number> {
  const res = await fetch(`${d.url}/v1/sprites/${sprite}/fs/read?path=${encodeURIComponent(path)}`, {
    headers: { authorization: `Bearer ${d.adminToken}` },
  });
  let bytes = 0;
  for await (const c of res.body as unknown as AsyncIterable<Uint8Array>) bytes += c.length;
  return bytes;
}

/**
 * 1 GB through fs/write and fs/read next to `cp --reflink=never` + sync and `cat` of the same
 * size on the same btrfs pool; then 4 KB reads and writes.
 */
export async function measureFs(d: TestDaemon, runs: number): Promise<FsResult> {
  await d.createSprite('bench-fs', { ram_mb: 512, storage_gb: 4 });
  try {
    const write = await timed(() => put(d, 'bench-fs', '/home/sprite/big.bin', chunks(SIZE)));
    if (write.value !== 200) throw new Error(`1 GB write answered ${write.value}`);
    const readBack = await timed(() => read(d, 'bench-fs', '/home/sprite/big.bin'));
    if (readBack.value !== SIZE) throw new Error(`1 GB read returned ${readBack.value} bytes`);

    const scratch = join(d.dataDir, 'storage', 'pool', 'bench-floor');
    mkdirSync(scratch, { recursive: true });
    spawnSync('sh', ['-c', `head -c ${SIZE} /dev/urandom > ${scratch}/src && sync`]);
    const cp = await timed(
      () => void spawnSync('sh', ['-c', `cp --reflink=never ${scratch}/src ${scratch}/dst && sync`]),
    );
    const cat = await timed(() => void spawnSync('sh', ['-c', `cat ${scratch}/dst > /dev/null`]));
    rmSync(scratch, { recursive: true, force: true });

    const small = Buffer.alloc(4096, 0x61);
    await put(d, 'bench-fs', '/home/sprite/small', small);
    const read4k = summarize(
      await sample(runs * 5, 5, async () => void (await read(d, 'bench-fs', '/home/sprite/small'))),
    );
    const write4k = summarize(
      await sample(runs * 5, 5, async () => void (await put(d, 'bench-fs', '/home/sprite/small', small))),
    );
    return {
      writeMBps: SIZE / 1e6 / (write.ms / 1000),
      readMBps: SIZE / 1e6 / (readBack.ms / 1000),
      cpMBps: SIZE / 1e6 / (cp.ms / 1000),
      catMBps: SIZE / 1e6 / (cat.ms / 1000),
      read4k,
      write4k,
    };
  } finally {
    await d.api('DELETE', '/v1/sprites/bench-fs');
  }
}
