import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import type { TestDaemon } from './daemon.js';

/** The host pid of a sprite's agent: the child of the container's init named sprite-agent. */
export function agentPid(d: TestDaemon, spriteId: string): number {
  const state = JSON.parse(
    execFileSync(d.runtime, ['state', `spr-${d.instanceId}-${spriteId}`], { encoding: 'utf8' }),
  ) as { pid: number };
  // Walk the init's descendants (init → tini or a helper → agent) for the process named sprite-agent.
  const queue = [state.pid];
  for (let seen = 0; queue.length > 0 && seen < 64; seen++) {
    const pid = queue.shift()!;
    try {
      const comm = readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      if (comm === 'sprite-agent' || cmdline.startsWith('sprite-agent')) return pid;
      for (const task of readdirSync(`/proc/${pid}/task`)) {
        queue.push(
          ...readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number),
        );
      }
    } catch {
      // gone meanwhile
    }
  }
  throw new Error(`no sprite-agent among the descendants of the init (pid ${state.pid}) of sprite ${spriteId}`);
}

/** Resident memory of a host process, in bytes. */
export function rssBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) * 1024;
}
