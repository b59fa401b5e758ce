import { readdir, readFile, rmdir, stat } from 'node:fs/promises';
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
  for (const file of [join(CGROUP_ROOT, 'memory', relPath, 'memory.usage_in_bytes'), join(CGROUP_ROOT, relPath, 'memory.current')]) {
    const text = await readFile(file, 'utf8').catch(() => null);
    if (text !== null) return Number(text.trim());
  }
  return null;
}
