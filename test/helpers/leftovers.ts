import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** A host command's output lines; none if it fails or is missing. */
export function lines(cmd: string, args: string[]): string[] {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })
      .split('\n')
      .filter(Boolean);
  } catch {
    return [];
  }
}

/**
 * Everything on the host that carries `instanceId` or lives under `dataDir`: containers,
 * mounts, loop devices, netns, veths, nft tables, cgroups, processes, claims.
 * Empty means the daemon left nothing behind.
 */
export function collectLeftovers(instanceId: string, dataDir: string): string[] {
  const found: string[] = [];
  const prefix = `spr-${instanceId}-`;
  for (const runtime of ['crun', 'runc']) {
    for (const id of lines(runtime, ['list', '-q']))
      if (id.startsWith(prefix)) found.push(`${runtime} container ${id}`);
  }
  for (const line of readFileSync('/proc/self/mounts', 'utf8').split('\n')) {
    const target = line.split(' ')[1] ?? '';
    if (target.startsWith(dataDir)) found.push(`mount ${target}`);
  }
  for (const line of lines('losetup', ['-a']))
    if (line.includes(dataDir)) found.push(`loop device ${line}${loopHolders(line.split(':')[0] ?? '')}`);
  for (const ns of existsSync('/run/netns') ? readdirSync('/run/netns') : [])
    if (ns.startsWith(prefix)) found.push(`netns ${ns}`);
  for (const line of lines('ip', ['-o', 'link', 'show'])) {
    const name = /^\d+:\s+([^@:]+)/.exec(line)?.[1] ?? '';
    if (name.startsWith(`spr${instanceId}`)) found.push(`link ${name}`);
  }
  for (const line of lines('nft', ['list', 'tables']))
    if (line.includes(`sprites_${instanceId}`)) found.push(`nft ${line}`);
  for (const h of readdirSync('/sys/fs/cgroup')) {
    if (existsSync(join('/sys/fs/cgroup', h, `sprites-${instanceId}`))) found.push(`cgroup ${h}/sprites-${instanceId}`);
  }
  for (const line of lines('ps', ['-eo', 'pid,args'])) {
    if (line.includes(dataDir) && !line.includes('ps -eo')) found.push(`process ${line.trim()}`);
  }
  const claimsRoot = process.env.SPRITES_CLAIMS_DIR ?? '/run/sprites/claims';
  for (const kind of existsSync(claimsRoot) ? readdirSync(claimsRoot) : []) {
    for (const index of readdirSync(join(claimsRoot, kind))) {
      const owner = (() => {
        try {
          return readFileSync(join(claimsRoot, kind, index, 'owner'), 'utf8');
        } catch {
          return '';
        }
      })();
      if (owner.startsWith(`${instanceId} `)) found.push(`claim ${kind}/${index}`);
    }
  }
  return found;
}

/** Which processes' mount namespaces still hold a filesystem on `device` (to tell who keeps a loop device). */
function loopHolders(device: string): string {
  if (!device) return '';
  const holders: string[] = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      if (!readFileSync(`/proc/${pid}/mountinfo`, 'utf8').includes(` ${device} `)) continue;
      const comm = readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
      const ns = execFileSync('readlink', [`/proc/${pid}/ns/mnt`], { encoding: 'utf8' }).trim();
      holders.push(`${pid} ${comm} ${ns}`);
    } catch {
      // gone meanwhile
    }
    if (holders.length >= 5) break;
  }
  return holders.length > 0
    ? ` (mounted in the namespaces of: ${holders.join('; ')})`
    : " (mounted in no process's namespace)";
}
