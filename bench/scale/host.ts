import { existsSync, readdirSync, readFileSync, statSync, statfsSync } from 'node:fs';
import { join } from 'node:path';

/** What the host and the daemon hold at one moment of the run. */
export interface HostSnapshot {
  at: string;
  memAvailableMb: number;
  daemonRssMb: number;
  daemonThreads: number;
  daemonFds: number;
  /** The daemon's soft limit on open files. */
  daemonFdLimit: number;
  /** Tasks (threads) on the whole host, and the kernel's limit on them. */
  hostTasks: number;
  pidMax: number;
  /** Bytes the sparse pool file takes on the host disk, and what btrfs says is used inside it. */
  poolFileMb: number;
  poolUsedMb: number;
  poolSizeMb: number;
  /** Host-wide claims (every daemon on the host): network slots and uid ranges in use / in all. */
  addresses: { used: number; total: number } | null;
  uidRanges: { used: number; total: number } | null;
  /** Memory charged to the sprites' cgroups (each sprite, pre-booted ones too), and how many. */
  spriteCgroups: number;
  spriteCgroupChargeMb: number;
}

const MB = 2 ** 20;

function read(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

export function memAvailableMb(): number {
  return Number(/MemAvailable:\s+(\d+) kB/.exec(read('/proc/meminfo'))?.[1] ?? 0) / 1024;
}

function statusField(pid: number, field: string): number {
  return Number(new RegExp(`^${field}:\\s+(\\d+)`, 'm').exec(read(`/proc/${pid}/status`))?.[1] ?? 0);
}

function fdCount(pid: number): number {
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return 0;
  }
}

function fdLimit(pid: number): number {
  return Number(/^Max open files\s+(\d+)/m.exec(read(`/proc/${pid}/limits`))?.[1] ?? 0);
}

/**
 * Claims of one kind (`net-…` or `ids-…`) in the host-wide claims dir that fall in this
 * daemon's index space `[0, total)`: held by any daemon on the host, they are what its next
 * acquire competes for. `kind` picks the directory (e.g. the daemon's network pool).
 */
function claims(
  prefix: 'net-' | 'ids-',
  total: (kind: string) => number,
  kind?: string,
): { used: number; total: number } | null {
  const root = process.env.SPRITES_CLAIMS_DIR ?? '/run/sprites/claims';
  const dir = kind ?? (existsSync(root) ? readdirSync(root).find((k) => k.startsWith(prefix)) : undefined);
  if (!dir || !existsSync(join(root, dir))) return null;
  const size = total(dir);
  const used = readdirSync(join(root, dir)).filter((n) => /^\d+$/.test(n) && Number(n) < size).length;
  return { used, total: size };
}

/** The claims directory of the daemon's network pool (SPRITES_NETWORK_POOL or the default). */
function netKind(): string {
  return `net-${(process.env.SPRITES_NETWORK_POOL ?? '10.213.0.0/16').replace(/[./]/g, '_')}`;
}

/** `net-10_213_0_0_16`: a /30 per slot. */
function netSlots(kind: string): number {
  const prefix = Number(/_(\d+)$/.exec(kind)?.[1] ?? 32);
  return 2 ** (32 - prefix) / 4;
}

/**
 * Reads memory, the daemon's process figures, the pool and the claims. `maxSprites` is the
 * size of the uid-range claim space (SPRITES_MAX_SPRITES), which its directory name does not say.
 */
export function snapshot(
  at: string,
  daemonPid: number,
  dataDir: string,
  instanceId: string,
  maxSprites: number,
): HostSnapshot {
  const pool = join(dataDir, 'storage', 'pool');
  let poolUsedMb = 0;
  let poolSizeMb = 0;
  try {
    const fs = statfsSync(pool);
    poolSizeMb = (fs.blocks * fs.bsize) / MB;
    poolUsedMb = ((fs.blocks - fs.bfree) * fs.bsize) / MB;
  } catch {
    // not mounted (the daemon is down)
  }
  let poolFileMb = 0;
  try {
    poolFileMb = (statSync(join(dataDir, 'storage', 'pool.img')).blocks * 512) / MB;
  } catch {
    // a pool device instead of a file
  }
  let spriteCgroups = 0;
  let charge = 0;
  const top = existsSync('/sys/fs/cgroup/memory')
    ? `/sys/fs/cgroup/memory/sprites-${instanceId}`
    : `/sys/fs/cgroup/sprites-${instanceId}`;
  for (const child of existsSync(top) ? readdirSync(top, { withFileTypes: true }) : []) {
    if (!child.isDirectory()) continue;
    const bytes = read(join(top, child.name, 'memory.usage_in_bytes')) || read(join(top, child.name, 'memory.current'));
    if (!bytes) continue;
    spriteCgroups++;
    charge += Number(bytes.trim());
  }
  return {
    at,
    memAvailableMb: memAvailableMb(),
    daemonRssMb: statusField(daemonPid, 'VmRSS') / 1024,
    daemonThreads: statusField(daemonPid, 'Threads'),
    daemonFds: fdCount(daemonPid),
    daemonFdLimit: fdLimit(daemonPid),
    hostTasks: Number(/\d+\/(\d+)/.exec(read('/proc/loadavg'))?.[1] ?? 0),
    pidMax: Number(read('/proc/sys/kernel/pid_max').trim() || 0),
    poolFileMb,
    poolUsedMb,
    poolSizeMb,
    addresses: claims('net-', netSlots, netKind()),
    uidRanges: claims('ids-', () => maxSprites),
    spriteCgroups,
    spriteCgroupChargeMb: charge / MB,
  };
}

/**
 * Which host limit an error (and the host's state when it came) points to: memory, fds,
 * addresses, uid ranges, pids or disk. Several can apply; the first found is named.
 */
export function nameLimit(message: string, host: HostSnapshot): string {
  const m = message;
  if (/no free net-/.test(m)) return 'addresses: every network slot of the pool is claimed (widen --network-pool)';
  if (/no free ids-/.test(m)) return 'uid ranges: every uid range is claimed (SPRITES_MAX_SPRITES)';
  if (
    /EMFILE|ENFILE|too many open files/i.test(m) ||
    (host.daemonFdLimit > 0 && host.daemonFds > host.daemonFdLimit * 0.95)
  )
    return `fds: the daemon holds ${host.daemonFds} of ${host.daemonFdLimit}`;
  if (/ENOMEM|cannot allocate memory|out of memory|oom/i.test(m) || host.memAvailableMb < 512)
    return `memory: ${host.memAvailableMb.toFixed(0)} MB available`;
  if (/EAGAIN|resource temporarily unavailable|fork|pids/i.test(m) || host.hostTasks > host.pidMax * 0.95)
    return `pids: ${host.hostTasks} tasks on the host, pid_max ${host.pidMax}`;
  if (/ENOSPC|no space left|quota/i.test(m) || (host.poolSizeMb > 0 && host.poolUsedMb > host.poolSizeMb * 0.95))
    return `disk: the pool has ${host.poolUsedMb.toFixed(0)} of ${host.poolSizeMb.toFixed(0)} MB used`;
  if (host.addresses && host.addresses.used >= host.addresses.total)
    return 'addresses: every network slot of the pool is claimed';
  if (host.uidRanges && host.uidRanges.used >= host.uidRanges.total) return 'uid ranges: every uid range is claimed';
  return 'not one of memory, fds, addresses, pids, uid ranges or disk (see the message)';
}
