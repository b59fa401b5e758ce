import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { lines } from './leftovers.js';

/** What one daemon holds on the host, read from the host itself (sorted sprite ids where it can tell). */
export interface HostState {
  containers: string[];
  netns: string[];
  veths: string[];
  /** Owners of the network and id claims this instance holds. */
  netClaimOwners: string[];
  idClaimOwners: string[];
  runDirs: string[];
  /** Sprites whose root filesystem is mounted. */
  rootfsMounts: string[];
  /** Per cgroup hierarchy, the sprites with a cgroup under the daemon's parent. */
  cgroupChildren: string[][];
  volumes: string[];
  /** Volumes with a checkpoints directory. */
  checkpointDirs: string[];
  /** Checkpoints on disk per volume (named and auto). */
  checkpoints: Map<string, string[]>;
}

function list(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

export function hostState(instanceId: string, dataDir: string): HostState {
  const containerPrefix = `spr-${instanceId}-`;
  const containers = [...new Set(['crun', 'runc'].flatMap((rt) => lines(rt, ['list', '-q'])))]
    .filter((id) => id.startsWith(containerPrefix))
    .map((id) => id.slice(containerPrefix.length));
  const netns = list('/run/netns').filter((n) => n.startsWith(containerPrefix));
  const veths = lines('ip', ['-o', 'link', 'show', 'type', 'veth'])
    .map((l) => /^\d+:\s+([^@:]+)/.exec(l)?.[1] ?? '')
    .filter((n) => n.startsWith(`spr${instanceId}`));
  const claimsRoot = process.env.SPRITES_CLAIMS_DIR ?? '/run/sprites/claims';
  const owners = (kindPrefix: string) =>
    list(claimsRoot)
      .filter((k) => k.startsWith(kindPrefix))
      .flatMap((kind) =>
        list(join(claimsRoot, kind))
          .filter((i) => /^\d+$/.test(i))
          .map((i) => join(claimsRoot, kind, i, 'owner')),
      )
      .map((path) => {
        try {
          return readFileSync(path, 'utf8').trim().split(' ');
        } catch {
          return [];
        }
      })
      .filter(([instance]) => instance === instanceId)
      .map(([, owner]) => owner ?? '');
  const runRoot = join(dataDir, 'run');
  const mounts = readFileSync('/proc/self/mounts', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[1] ?? '');
  const rootfsMounts = [
    ...new Set(
      mounts
        .filter((m) => m.startsWith(`${runRoot}/`) && m.endsWith('/rootfs'))
        .map((m) => m.slice(runRoot.length + 1).split('/')[0] ?? ''),
    ),
  ];
  const cgroupChildren = list('/sys/fs/cgroup')
    .map((h) => join('/sys/fs/cgroup', h, `sprites-${instanceId}`))
    .filter((p) => existsSync(p))
    .map((p) => list(p).filter((c) => statSync(join(p, c)).isDirectory()));
  const pool = join(dataDir, 'storage', 'pool');
  const checkpoints = new Map<string, string[]>();
  const checkpointDirs = new Set<string>();
  for (const kind of ['checkpoints', 'auto-checkpoints']) {
    for (const volume of list(join(pool, kind))) {
      checkpointDirs.add(volume);
      checkpoints.set(volume, [...(checkpoints.get(volume) ?? []), ...list(join(pool, kind, volume))].sort());
    }
  }
  const sorted = (a: string[]) => [...a].sort();
  return {
    containers: sorted(containers),
    netns: sorted(netns),
    veths: sorted(veths),
    netClaimOwners: sorted(owners('net-')),
    idClaimOwners: sorted(owners('ids-')),
    runDirs: sorted(list(runRoot)),
    rootfsMounts: sorted(rootfsMounts),
    cgroupChildren,
    volumes: sorted(list(join(pool, 'volumes'))),
    checkpointDirs: sorted([...checkpointDirs]),
    checkpoints,
  };
}
