import { readdir, readFile, rmdir, stat, writeFile } from 'node:fs/promises';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const CGROUP_ROOT = '/sys/fs/cgroup';

/** Every mounted hierarchy: the v2 root on a pure v2 host, else each v1 controller (and `unified`). */
async function hierarchies(): Promise<string[]> {
  if (await stat(join(CGROUP_ROOT, 'cgroup.procs')).catch(() => null)) return [CGROUP_ROOT];
  const entries = await readdir(CGROUP_ROOT, { withFileTypes: true }).catch(() => []);
  return entries.filter((e) => e.isDirectory()).map((e) => join(CGROUP_ROOT, e.name));
}

/**
 * Removes the cgroup directory `relPath` (e.g. /sprites-main) from every hierarchy, deepest
 * first. Directories that still hold processes stay (rmdir fails with EBUSY) and are
 * reported; the rest go.
 */
export async function removeCgroupTree(relPath: string): Promise<{ removed: number; busy: string[] }> {
  let removed = 0;
  const busy: string[] = [];
  for (const h of await hierarchies()) {
    const top = join(h, relPath);
    const walk = async (dir: string): Promise<void> => {
      const children = await readdir(dir, { withFileTypes: true }).catch(() => null);
      if (!children) return;
      for (const c of children) if (c.isDirectory()) await walk(join(dir, c.name));
      try {
        await rmdir(dir);
        removed++;
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code !== 'ENOENT') busy.push(dir);
      }
    };
    await walk(top);
  }
  return { removed, busy };
}

/** Names of child cgroups under `relPath` in any hierarchy (for reclaim). */
export async function listChildCgroups(relPath: string): Promise<string[]> {
  const names = new Set<string>();
  for (const h of await hierarchies()) {
    const children = await readdir(join(h, relPath), { withFileTypes: true }).catch(() => []);
    for (const c of children) if (c.isDirectory()) names.add(c.name);
  }
  return [...names];
}

/** Current memory charge of a cgroup (v1 memory.usage_in_bytes or v2 memory.current), or null. */
export async function memoryUsage(relPath: string): Promise<number | null> {
  for (const file of [
    join(CGROUP_ROOT, 'memory', relPath, 'memory.usage_in_bytes'),
    join(CGROUP_ROOT, relPath, 'memory.current'),
  ]) {
    const text = await readFile(file, 'utf8').catch(() => null);
    if (text !== null) return Number(text.trim());
  }
  return null;
}

export interface CgroupLimits {
  memoryBytes: number;
  cpus: number;
  pidsLimit: number;
}

async function writeIfPresent(path: string, value: string): Promise<boolean> {
  try {
    await writeFile(path, value);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw new Error(`write ${value} to ${path}`, { cause: e });
  }
}

/**
 * Changes the limits of a running container's cgroup in place (v1 or v2), without a
 * runtime call. v1 needs memory ≤ memory+swap at every step, so the order depends on
 * whether the limit goes up or down.
 */
export async function writeCgroupLimits(relPath: string, limits: CgroupLimits, cpuPeriodUs: number): Promise<void> {
  const quota = String(Math.max(1000, Math.round(limits.cpus * cpuPeriodUs)));
  if (await stat(join(CGROUP_ROOT, 'cgroup.procs')).catch(() => null)) {
    const dir = join(CGROUP_ROOT, relPath);
    await writeFile(join(dir, 'memory.max'), String(limits.memoryBytes));
    await writeFile(join(dir, 'cpu.max'), `${quota} ${cpuPeriodUs}`);
    await writeFile(join(dir, 'pids.max'), String(limits.pidsLimit));
    return;
  }
  const memory = join(CGROUP_ROOT, 'memory', relPath);
  const current = Number((await readFile(join(memory, 'memory.limit_in_bytes'), 'utf8')).trim());
  const bytes = String(limits.memoryBytes);
  if (limits.memoryBytes < current) {
    await writeFile(join(memory, 'memory.limit_in_bytes'), bytes);
    await writeIfPresent(join(memory, 'memory.memsw.limit_in_bytes'), bytes);
  } else {
    await writeIfPresent(join(memory, 'memory.memsw.limit_in_bytes'), bytes);
    await writeFile(join(memory, 'memory.limit_in_bytes'), bytes);
  }
  const cpu = join(CGROUP_ROOT, 'cpu', relPath);
  await writeFile(join(cpu, 'cpu.cfs_period_us'), String(cpuPeriodUs));
  await writeFile(join(cpu, 'cpu.cfs_quota_us'), quota);
  await writeFile(join(CGROUP_ROOT, 'pids', relPath, 'pids.max'), String(limits.pidsLimit));
}

let unifiedOnly: boolean | undefined;

/** The file that freezes a cgroup: v1 `freezer.state`, or v2 `cgroup.freeze`. */
export function freezerFile(relPath: string): string {
  unifiedOnly ??= existsSync(join(CGROUP_ROOT, 'cgroup.procs'));
  return unifiedOnly
    ? join(CGROUP_ROOT, relPath, 'cgroup.freeze')
    : join(CGROUP_ROOT, 'freezer', relPath, 'freezer.state');
}

/**
 * Freezes or thaws every process of a container through its cgroup (v1 freezer or v2
 * cgroup.freeze), without a runtime call; resolves once the kernel reports the new state.
 * Memory stays resident while frozen. The cgroup files are read and written synchronously:
 * they are kernel memory, and a thaw is on the path of a request waiting for it.
 */
export async function setFrozen(relPath: string, frozen: boolean, timeoutMs = 2000): Promise<void> {
  const file = freezerFile(relPath);
  const v2 = unifiedOnly === true;
  writeFileSync(file, v2 ? (frozen ? '1' : '0') : frozen ? 'FROZEN' : 'THAWED');
  const done = () => {
    if (v2)
      return readFileSync(join(CGROUP_ROOT, relPath, 'cgroup.events'), 'utf8').includes(`frozen ${frozen ? 1 : 0}`);
    return readFileSync(file, 'utf8').trim() === (frozen ? 'FROZEN' : 'THAWED');
  };
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline)
      throw new Error(`${relPath} did not become ${frozen ? 'frozen' : 'thawed'} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 1));
  }
}
