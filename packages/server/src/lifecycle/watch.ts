import { readFileSync } from 'node:fs';
import type { ContainerState } from '../runtime/index.js';

interface Watched {
  runId: string;
  pid: number;
  /** Field 22 of /proc/<pid>/stat: tells the container's init from a later process with its pid. */
  startTime: string;
}

/**
 * Knows the host pid of each running sprite's init (tini) and tells when it is gone. tini
 * exits with the agent (`-g`), so an agent that was OOM-killed or crashed leaves a dead
 * container behind a sprite still recorded as running; the lifecycle asks here on every
 * request and on every idle pass, and boots such a sprite again instead of answering 502.
 * Checks read one small /proc file: cheap enough for the request path.
 */
export class ContainerWatch {
  private readonly runs = new Map<string, Watched>();

  /** Records the run's init; `state` is the runtime's answer right after the start. */
  started(spriteId: string, runId: string, state: ContainerState | null): void {
    const startTime = state?.pid ? procStartTime(state.pid) : null;
    if (!state?.pid || startTime === null) {
      this.runs.delete(spriteId);
      return;
    }
    this.runs.set(spriteId, { runId, pid: state.pid, startTime });
  }

  /** The run this process last saw start for the sprite (in memory: no registry read). */
  runIdOf(spriteId: string): string | undefined {
    return this.runs.get(spriteId)?.runId;
  }

  stopped(spriteId: string): void {
    this.runs.delete(spriteId);
  }

  /** True when the sprite's init is known and has exited (or is a zombie). */
  isDead(spriteId: string): boolean {
    const w = this.runs.get(spriteId);
    return w !== undefined && procStartTime(w.pid) !== w.startTime;
  }

  /** Sprites whose init has exited, with the run it belonged to. */
  dead(): { spriteId: string; runId: string }[] {
    return [...this.runs].filter(([id]) => this.isDead(id)).map(([spriteId, w]) => ({ spriteId, runId: w.runId }));
  }
}

/** Start time of a live process, or null if it is gone or a zombie. */
function procStartTime(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name, which is in parentheses and may hold anything.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (fields[0] === 'Z' || fields[0] === 'X') return null;
    return fields[19] ?? null;
  } catch {
    return null;
  }
}
