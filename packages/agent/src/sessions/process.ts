import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { constants as osConstants } from 'node:os';
import { signalExitCode } from '@sprites/protocol';

/** A running command, behind one shape for pipes and pseudo-terminals. */
export interface ProcessHandle {
  readonly pid: number;
  write(data: Buffer): void;
  endInput(): void;
  resize(cols: number, rows: number): void;
  /** Sends a signal to the command's whole process group. */
  signal(signal: number): void;
  /** stream 1 = stdout (or the terminal), 2 = stderr. */
  onOutput(listener: (stream: 1 | 2, data: Buffer) => void): void;
  /** Called once, after every byte of output was delivered. */
  onExit(listener: (code: number) => void): void;
}

export interface SpawnSpec {
  file: string;
  argv: string[];
  cwd: string;
  env: Record<string, string>;
  uid: number;
  gid: number;
  stdin: boolean;
  cols: number;
  rows: number;
}

export function signalNumber(name: string): number | null {
  const upper = name.trim().toUpperCase();
  if (/^\d+$/.test(upper)) return Number(upper) > 0 && Number(upper) < 65 ? Number(upper) : null;
  const full = upper.startsWith('SIG') ? upper : `SIG${upper}`;
  return (osConstants.signals as Record<string, number>)[full] ?? null;
}

function killGroup(pid: number, signal: number): void {
  try {
    process.kill(-pid, signal);
  } catch {
    try {
      process.kill(pid, signal);
    } catch {
      // already gone
    }
  }
}

/** A command with pipes (non-TTY exec), in its own process group. */
export function spawnPipes(spec: SpawnSpec): ProcessHandle {
  const child = spawn(spec.file, spec.argv.slice(1), {
    argv0: spec.argv[0],
    cwd: spec.cwd,
    env: spec.env,
    uid: spec.uid,
    gid: spec.gid,
    stdio: [spec.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'],
    detached: true,
  });
  const outputListeners: ((stream: 1 | 2, data: Buffer) => void)[] = [];
  const exitListeners: ((code: number) => void)[] = [];
  let open = 2;
  let code: number | null = null;
  let reported = false;
  const report = () => {
    if (reported || code === null || open > 0) return;
    reported = true;
    for (const l of exitListeners) l(code);
  };
  child.stdout!.on('data', (b: Buffer) => outputListeners.forEach((l) => l(1, b)));
  child.stderr!.on('data', (b: Buffer) => outputListeners.forEach((l) => l(2, b)));
  child.stdout!.on('close', () => (open--, report()));
  child.stderr!.on('close', () => (open--, report()));
  child.stdin?.on('error', () => undefined);
  child.on('error', () => {
    if (code === null) code = 126;
    open = 0;
    report();
  });
  child.on('exit', (exitCode, signal) => {
    code = exitCode ?? (signal ? signalExitCode(signalNumber(signal) ?? 0) : 1);
    report();
  });
  return {
    pid: child.pid ?? 0,
    write: (data) => void child.stdin?.write(data),
    endInput: () => child.stdin?.end(),
    resize: () => undefined,
    signal: (s) => child.pid !== undefined && killGroup(child.pid, s),
    onOutput: (l) => void outputListeners.push(l),
    onExit: (l) => void exitListeners.push(l),
  };
}

interface PtyModule {
  spawn(file: string, args: string[], options: { name: string; cols: number; rows: number; cwd: string; env: Record<string, string>; uid: number; gid: number; encoding: null }): {
    pid: number;
    write(data: string | Buffer): void;
    resize(cols: number, rows: number): void;
    onData(listener: (data: string | Buffer) => void): void;
    onExit(listener: (e: { exitCode: number; signal?: number }) => void): void;
  };
}

let ptyModule: PtyModule | null = null;

function loadPty(): PtyModule {
  // The native addon sits next to the agent bundle (node_modules/@lydell/...), never in the sprite's disk.
  // The bundle is CommonJS (require exists); under tsx in tests this module is ESM.
  const load = typeof require === 'function' ? require : createRequire(import.meta.url);
  ptyModule ??= load('@lydell/node-pty') as PtyModule;
  return ptyModule;
}

/** A command on a real pseudo-terminal inside the sprite (TTY exec). */
export function spawnPty(spec: SpawnSpec): ProcessHandle {
  const term = loadPty().spawn(spec.file, spec.argv.slice(1), {
    name: spec.env.TERM ?? 'xterm-256color',
    cols: spec.cols,
    rows: spec.rows,
    cwd: spec.cwd,
    env: spec.env,
    uid: spec.uid,
    gid: spec.gid,
    encoding: null,
  });
  const outputListeners: ((stream: 1 | 2, data: Buffer) => void)[] = [];
  const exitListeners: ((code: number) => void)[] = [];
  term.onData((d) => {
    const b = typeof d === 'string' ? Buffer.from(d) : d;
    for (const l of outputListeners) l(1, b);
  });
  term.onExit(({ exitCode, signal }) => {
    const code = signal ? signalExitCode(signal) : exitCode;
    // Let output still queued in this tick reach the listeners first.
    setImmediate(() => exitListeners.forEach((l) => l(code)));
  });
  return {
    pid: term.pid,
    write: (data) => term.write(data),
    endInput: () => undefined,
    resize: (cols, rows) => term.resize(cols, rows),
    signal: (s) => killGroup(term.pid, s),
    onOutput: (l) => void outputListeners.push(l),
    onExit: (l) => void exitListeners.push(l),
  };
}
