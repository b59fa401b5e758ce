import { join } from 'node:path';

/** Where a daemon keeps each sprite's host-side run state (pure naming, no I/O). */
export class SpritePaths {
  constructor(
    readonly dataDir: string,
    readonly instanceId: string,
  ) {}

  get runRoot(): string {
    return join(this.dataDir, 'run');
  }

  runDir(spriteId: string): string {
    return join(this.runRoot, spriteId);
  }

  /** Bundle directory: config.json lives here; `rootfs` is the idmapped mount of the volume. */
  rootfs(spriteId: string): string {
    return join(this.runDir(spriteId), 'rootfs');
  }

  /** Shared mount point whose read-only checkpoint views appear in the sprite at /.sprite/checkpoints. */
  checkpointsView(spriteId: string): string {
    return join(this.runDir(spriteId), 'checkpoints');
  }

  /** Shown read-only inside the sprite at /.sprite/policy (network.json). */
  policyDir(spriteId: string): string {
    return join(this.runDir(spriteId), 'policy');
  }

  agentSocket(spriteId: string): string {
    return join(this.runDir(spriteId), 'agent.sock');
  }

  consoleLog(spriteId: string): string {
    return join(this.runDir(spriteId), 'console.log');
  }

  hostsFile(spriteId: string): string {
    return join(this.runDir(spriteId), 'hosts');
  }

  resolvFile(spriteId: string): string {
    return join(this.runDir(spriteId), 'resolv.conf');
  }

  containerId(spriteId: string): string {
    return `${this.containerPrefix}${spriteId}`;
  }

  get containerPrefix(): string {
    return `spr-${this.instanceId}-`;
  }

  /** cgroup parent of all this daemon's sprites, relative to each hierarchy. */
  get cgroupParent(): string {
    return `/sprites-${this.instanceId}`;
  }

  cgroupPath(spriteId: string): string {
    return `${this.cgroupParent}/${spriteId}`;
  }
}

/** First host uid of a sprite's id range: high above ordinary users and subuid ranges. */
export const ID_RANGE_BASE = 2 ** 28;
export const ID_RANGE_SIZE = 65536;

export function hostIdBase(slot: number): number {
  return ID_RANGE_BASE + slot * ID_RANGE_SIZE;
}
