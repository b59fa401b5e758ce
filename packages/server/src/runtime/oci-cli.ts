import { readFile } from 'node:fs/promises';
import { CommandError, helperPath, run } from '../host/index.js';
import type { ContainerState, ContainerStatus, RuntimeDriver, RuntimeInfo, StartOptions } from './driver.js';

/**
 * The verbs crun and runc share (run -d, state, exec, pause, resume, kill, delete, list).
 * `prefix` is what goes before the runtime's own arguments: for crun on hybrid cgroup hosts
 * the native helper that hides the unified hierarchy.
 */
export class OciCliDriver implements RuntimeDriver {
  constructor(
    private readonly name: string,
    private readonly binary: string,
    private readonly version: string,
    private readonly prefix: string[] = [],
  ) {}

  info(): RuntimeInfo {
    return { name: this.name, version: this.version, userNamespaces: true, freezer: true };
  }

  private command(args: string[]): [string, string[]] {
    const argv = [...this.prefix, this.binary, ...args];
    return [argv[0]!, argv.slice(1)];
  }

  private run(args: string[], options: Parameters<typeof run>[2] = {}) {
    const [file, rest] = this.command(args);
    return run(file, rest, { timeoutMs: 60_000, ...options });
  }

  async start(id: string, bundleDir: string, opts: StartOptions): Promise<void> {
    try {
      const [file, rest] = this.command(['run', '--detach', '--preserve-fds', '1', '--bundle', bundleDir, id]);
      // The helper binds the agent's socket, makes it fd 3, hands the runtime's (and so the
      // container's) stdout and stderr to a bounded console logger, then execs the runtime.
      await run(helperPath(), ['listen', '-l', opts.consoleLog, opts.agentSocket, '--', file, ...rest], {
        timeoutMs: 60_000,
      });
    } catch (e) {
      // The runtime's own complaint went through the logger's pipe: give it a moment to land.
      await new Promise((r) => setTimeout(r, 100));
      const tail = await readTail(opts.consoleLog);
      throw new Error(`${this.name} could not start container ${id}${tail ? `: ${tail}` : ''}`, { cause: e });
    }
  }

  async state(id: string): Promise<ContainerState | null> {
    try {
      const { stdout } = await this.run(['state', id]);
      const parsed = JSON.parse(stdout) as { id: string; status: ContainerStatus; pid?: number };
      return { id: parsed.id, status: parsed.status, pid: parsed.pid ?? 0 };
    } catch (e) {
      if (e instanceof CommandError && /does not exist|not exist|No such file/i.test(e.stderr + e.stdout)) return null;
      throw e;
    }
  }

  async exec(id: string, argv: string[], opts: { input?: string; timeoutMs?: number } = {}) {
    const r = await this.run(['exec', id, ...argv], {
      input: opts.input,
      timeoutMs: opts.timeoutMs ?? 60_000,
      okCodes: Array.from({ length: 256 }, (_, i) => i),
    });
    return r;
  }

  async freeze(id: string): Promise<void> {
    await this.run(['pause', id]);
  }

  async thaw(id: string): Promise<void> {
    await this.run(['resume', id]);
  }

  async kill(id: string, signal: NodeJS.Signals): Promise<void> {
    await this.run(['kill', id, signal.replace(/^SIG/, '')]);
  }

  async delete(id: string): Promise<void> {
    try {
      await this.run(['delete', '--force', id]);
    } catch (e) {
      if (e instanceof CommandError && /does not exist|not exist|No such file/i.test(e.stderr + e.stdout)) return;
      throw e;
    }
  }

  async list(prefix: string): Promise<string[]> {
    const { stdout } = await this.run(['list', '--quiet']);
    return stdout
      .split('\n')
      .map((s) => s.trim())
      .filter((s) => s.startsWith(prefix));
  }

  /**
   * One `list --format json` for all containers. It fails as a whole when any container on
   * the host (another daemon's) is half made or half deleted at that instant; then it is
   * asked again, and at last each of ours is asked on its own.
   */
  async states(prefix: string): Promise<Map<string, ContainerState>> {
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        return parseStates((await this.run(['list', '--format', 'json'])).stdout, prefix);
      } catch {
        await new Promise((r) => setTimeout(r, 50 * (attempt + 1)));
      }
    }
    const states = new Map<string, ContainerState>();
    for (const id of await this.list(prefix)) {
      const state = await this.state(id);
      if (state) states.set(id, state);
    }
    return states;
  }
}

function parseStates(stdout: string, prefix: string): Map<string, ContainerState> {
  const parsed: unknown = JSON.parse(stdout.trim() || '[]');
  const states = new Map<string, ContainerState>();
  for (const entry of Array.isArray(parsed) ? (parsed as { id?: unknown; status?: unknown; pid?: unknown }[]) : []) {
    if (typeof entry.id !== 'string' || !entry.id.startsWith(prefix) || typeof entry.status !== 'string') continue;
    states.set(entry.id, {
      id: entry.id,
      status: entry.status as ContainerStatus,
      pid: typeof entry.pid === 'number' ? entry.pid : 0,
    });
  }
  return states;
}

async function readTail(path: string): Promise<string> {
  try {
    const text = await readFile(path, 'utf8');
    return text.trim().split('\n').slice(-5).join(' | ');
  } catch {
    return '';
  }
}
