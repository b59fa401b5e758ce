import { readFileSync } from 'node:fs';
import type { TestDaemon } from '../test/helpers/daemon.js';
import { summarize, timed, type Summary } from './stats.js';

export interface CreateResult {
  /** Creates one at a time with a pause between them: the spare pools are refilled. */
  create: Summary;
  /** The rest back to back: spares run out and each create makes its own. */
  burstCreate: Summary;
  firstExec: Summary;
  remove: Summary;
  totalCreateSeconds: number;
  /** How many creates of each group were served by a pre-booted sprite (ADR 0007). */
  prebooted: { spaced: number; burst: number };
  memory: { memAvailableDropPerSpriteMb: number; cgroupChargePerSpriteMb: number; agentPssMb: number };
}

const SPACED = 20;

function memAvailableKb(): number {
  const m = /MemAvailable:\s+(\d+) kB/.exec(readFileSync('/proc/meminfo', 'utf8'));
  return Number(m?.[1] ?? 0);
}

function read(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null;
  }
}

/** Creates `n` sprites one after another through the API, then measures what idling costs. */
export async function measureCreate(daemon: TestDaemon, n: number): Promise<CreateResult> {
  const before = memAvailableKb();
  const creates: number[] = [];
  const burst: number[] = [];
  const execs: number[] = [];
  const ids: { id: string; name: string }[] = [];
  const t0 = Date.now();
  for (let i = 0; i < n; i++) {
    const name = `bench-${i}`;
    const spaced = i < SPACED;
    if (spaced) await new Promise((r) => setTimeout(r, 400));
    const { ms, value } = await timed(() => daemon.createSprite(name, { ram_mb: 256, storage_gb: 1 }));
    (spaced ? creates : burst).push(ms);
    ids.push({ id: value.id, name });
    if (spaced) execs.push((await timed(() => daemon.exec(name, ['true']))).ms);
  }
  const totalCreateSeconds = (Date.now() - t0) / 1000;
  const fromPool = new Set(
    (await daemon.waitForLog(/"event":"sprite\.create"/, n))
      .filter((l) => l.includes('"prebooted":true'))
      .map((l) => /"name":"(bench-\d+)"/.exec(l)?.[1]),
  );
  const prebooted = {
    spaced: ids.slice(0, SPACED).filter((x) => fromPool.has(x.name)).length,
    burst: ids.slice(SPACED).filter((x) => fromPool.has(x.name)).length,
  };
  // Let the agents settle into idle before reading memory.
  await new Promise((r) => setTimeout(r, 5000));
  const after = memAvailableKb();
  let charge = 0;
  let pss = 0;
  for (const { id } of ids) {
    const cg = `/sys/fs/cgroup/memory/sprites-${daemon.instanceId}/${id}`;
    charge += Number(
      read(`${cg}/memory.usage_in_bytes`) ??
        read(`/sys/fs/cgroup/sprites-${daemon.instanceId}/${id}/memory.current`) ??
        0,
    );
    const procs = (
      read(`${cg}/cgroup.procs`) ??
      read(`/sys/fs/cgroup/sprites-${daemon.instanceId}/${id}/cgroup.procs`) ??
      ''
    )
      .split('\n')
      .filter(Boolean);
    for (const pid of procs) {
      const m = /^Pss:\s+(\d+) kB/m.exec(read(`/proc/${pid}/smaps_rollup`) ?? '');
      pss += Number(m?.[1] ?? 0) * 1024;
    }
  }
  const removes: number[] = [];
  for (const { name } of ids) removes.push((await timed(() => daemon.api('DELETE', `/v1/sprites/${name}`))).ms);
  return {
    create: summarize(creates),
    burstCreate: summarize(burst),
    firstExec: summarize(execs),
    remove: summarize(removes),
    totalCreateSeconds,
    prebooted,
    memory: {
      memAvailableDropPerSpriteMb: (before - after) / 1024 / n,
      cgroupChargePerSpriteMb: charge / 2 ** 20 / n,
      agentPssMb: pss / 2 ** 20 / n,
    },
  };
}
