import { readFile, writeFile } from 'node:fs/promises';

/**
 * Kernel settings a host of thousands of sprites outgrows at their defaults, raised (never
 * lowered) at startup:
 * - kernel.pid_max 32768: about nine tasks per idle sprite cap a host near 3,500 sprites;
 *   systemd raises it to the 64-bit maximum on most distributions anyway.
 * - the neighbour table (one entry per sprite the host talks to over its veth) holds 1,024
 *   entries before the kernel refuses new ones ("neighbour table overflow").
 */
export const SCALE_SYSCTLS: readonly { key: string; min: number }[] = [
  { key: 'kernel.pid_max', min: 4_194_304 },
  { key: 'net.ipv4.neigh.default.gc_thresh2', min: 32_768 },
  { key: 'net.ipv4.neigh.default.gc_thresh3', min: 65_536 },
];

/** Raises each setting below its minimum; returns what was changed, and what could not be. */
export async function raiseSysctls(
  settings: readonly { key: string; min: number }[] = SCALE_SYSCTLS,
): Promise<{ raised: string[]; failed: string[] }> {
  const raised: string[] = [];
  const failed: string[] = [];
  for (const { key, min } of settings) {
    const path = `/proc/sys/${key.replace(/\./g, '/')}`;
    try {
      const now = Number((await readFile(path, 'utf8')).trim());
      if (Number.isFinite(now) && now >= min) continue;
      await writeFile(path, `${min}\n`);
      raised.push(`${key} ${now} → ${min}`);
    } catch (e) {
      failed.push(`${key}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  return { raised, failed };
}
