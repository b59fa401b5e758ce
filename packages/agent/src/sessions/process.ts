import { spawn } from 'node:child_process';
import { readFileSync, readSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Socket } from 'node:net';
import { constants as osConstants } from 'node:os';
import { signalExitCode } from '@sprites/protocol';
import { agentNative } from '../native.js';

/** A running command, behind one shape for pipes and pseudo-terminals. */
export interface ProcessHandle {
  readonly pid: number;
  write(data: Buffer): void;
  endInput(): void;
  resize(cols: number, rows: number): void;
  /** Sends a signal to the command's whole process group; a no-op once it was reaped. */
  signal(signal: number): void;
  /**
   * Stops reading the command's output (and so, once the pipe or terminal buffer is full,
   * blocks the command's writes) until `resume`. Used for backpressure from slow clients.
   */
  pause(): void;
  resume(): void;
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

/**
 * The start time of a process (field 22 of /proc/<pid>/stat), or null when no such process
 * exists. Together with the pid it names one process: a recycled pid has another start time.
 */
export function processStartTime(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: count from the last ')'.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null;
  } catch {
    return null;
  }
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

type Listeners = { output: ((stream: 1 | 2, data: Buffer) => void)[]; exit: ((code: number) => void)[] };

/**
 * Reports the exit only after both output pipes closed and the process was reaped, so the
 * exit frame always follows every byte of output.
 */
function exitReporter(listeners: Listeners): { pipeClosed(): void; exited(code: number): void } {
  let open = 2;
  let code: number | null = null;
  let reported = false;
  const report = () => {
    if (reported || code === null || open > 0) return;
    reported = true;
    for (const l of listeners.exit) l(code);
  };
  return {
    pipeClosed: () => (open--, report()),
    exited: (c) => {
      code ??= c;
      report();
    },
  };
}

/** A command that could not start: its error on stderr, then exit 127 (not found) or 126. */
function failedProcess(message: string, code: number): ProcessHandle {
  const listeners: Listeners = { output: [], exit: [] };
  setImmediate(() => {
    for (const l of listeners.output) l(2, Buffer.from(`${message}\n`));
    for (const l of listeners.exit) l(code);
  });
  return {
    pid: 0,
    write: () => undefined,
    endInput: () => undefined,
    resize: () => undefined,
    signal: () => undefined,
    pause: () => undefined,
    resume: () => undefined,
    onOutput: (l) => void listeners.output.push(l),
    onExit: (l) => void listeners.exit.push(l),
  };
}

/** A command with pipes (non-TTY exec), in its own session and process group. */
export function spawnPipes(spec: SpawnSpec): ProcessHandle {
  const addon = agentNative();
  if (!addon) return spawnPipesWithNode(spec);
  const listeners: Listeners = { output: [], exit: [] };
  const reporter = exitReporter(listeners);
  let ended = false;
  let fds: [number, number, number, number];
  try {
    const envp = Object.entries(spec.env).map(([k, v]) => `${k}=${v}`);
    fds = addon.spawn(spec.file, spec.argv, envp, spec.cwd, spec.uid, spec.gid, spec.stdin, (code, signal) => {
      ended = true;
      reporter.exited(signal ? signalExitCode(signal) : code);
    });
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    return failedProcess(`${spec.argv[0]}: ${err.message}`, err.code === 'ENOENT' ? 127 : 126);
  }
  const [pid, stdinFd, stdoutFd, stderrFd] = fds;
  const stdin = stdinFd >= 0 ? new Socket({ fd: stdinFd, readable: false, writable: true }) : null;
  stdin?.on('error', () => undefined);
  const outputs: Socket[] = [];
  for (const [stream, fd] of [
    [1, stdoutFd],
    [2, stderrFd],
  ] as const) {
    const out = new Socket({ fd, readable: true, writable: false });
    outputs.push(out);
    out.on('data', (b: Buffer) => {
      for (const l of listeners.output) l(stream, b);
    });
    out.on('error', () => undefined);
    out.on('close', () => reporter.pipeClosed());
  }
  return {
    pid,
    write: (data) => void stdin?.write(data),
    endInput: () => void stdin?.end(),
    resize: () => undefined,
    // Once reaped, the pid may belong to someone else: never signal it again.
    signal: (s) => !ended && killGroup(pid, s),
    pause: () => outputs.forEach((o) => o.pause()),
    resume: () => outputs.forEach((o) => o.resume()),
    onOutput: (l) => void listeners.output.push(l),
    onExit: (l) => void listeners.exit.push(l),
  };
}

/**
 * The OOM score a user's command gets (the native spawner sets the same before exec): the
 * agent runs lower, so under memory pressure the kernel kills a command before the agent.
 * Raising a score is always allowed; best effort, a sprite without /proc still runs.
 */
const USER_OOM_SCORE_ADJ = '500';

function giveUserOomScore(pid: number | undefined): void {
  if (!pid) return;
  try {
    writeFileSync(`/proc/${pid}/oom_score_adj`, USER_OOM_SCORE_ADJ);
  } catch {
    // gone already, or no /proc
  }
}

/** The same through child_process (slower: it forks the whole agent). */
function spawnPipesWithNode(spec: SpawnSpec): ProcessHandle {
  const child = spawn(spec.file, spec.argv.slice(1), {
    argv0: spec.argv[0],
    cwd: spec.cwd,
    env: spec.env,
    uid: spec.uid,
    gid: spec.gid,
    stdio: [spec.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'],
    detached: true,
  });
  giveUserOomScore(child.pid);
  const listeners: Listeners = { output: [], exit: [] };
  const reporter = exitReporter(listeners);
  child.stdout!.on('data', (b: Buffer) => listeners.output.forEach((l) => l(1, b)));
  child.stderr!.on('data', (b: Buffer) => listeners.output.forEach((l) => l(2, b)));
  child.stdout!.on('close', () => reporter.pipeClosed());
  child.stderr!.on('close', () => reporter.pipeClosed());
  child.stdin?.on('error', () => undefined);
  child.on('error', () => {
    reporter.exited(126);
    reporter.pipeClosed();
    reporter.pipeClosed();
  });
  child.on('exit', (exitCode, signal) =>
    reporter.exited(exitCode ?? (signal ? signalExitCode(signalNumber(signal) ?? 0) : 1)),
  );
  return {
    pid: child.pid ?? 0,
    write: (data) => void child.stdin?.write(data),
    endInput: () => child.stdin?.end(),
    resize: () => undefined,
    signal: (s) =>
      child.pid !== undefined && child.exitCode === null && child.signalCode === null && killGroup(child.pid, s),
    pause: () => (child.stdout!.pause(), child.stderr!.pause()),
    resume: () => (child.stdout!.resume(), child.stderr!.resume()),
    onOutput: (l) => void listeners.output.push(l),
    onExit: (l) => void listeners.exit.push(l),
  };
}

interface PtyModule {
  spawn(
    file: string,
    args: string[],
    options: {
      name: string;
      cols: number;
      rows: number;
      cwd: string;
      env: Record<string, string>;
      uid: number;
      gid: number;
      encoding: null;
    },
  ): PtyTerminal;
}

interface PtyTerminal {
  pid: number;
  write(data: string | Buffer): void;
  resize(cols: number, rows: number): void;
  pause(): void;
  resume(): void;
  onData(listener: (data: string | Buffer) => void): void;
  onExit(listener: (e: { exitCode: number; signal?: number }) => void): void;
}

let ptyModule: PtyModule | null = null;

function loadPty(): PtyModule {
  // The native addon sits next to the agent bundle (node_modules/@lydell/...), never in the sprite's disk.
  // The bundle is CommonJS (require exists); under tsx in tests this module is ESM.
  const load = typeof require === 'function' ? require : createRequire(import.meta.url);
  ptyModule ??= load('@lydell/node-pty') as PtyModule;
  return ptyModule;
}

/** After its command was reaped, a terminal counts as drained once it has been quiet this long. */
const PTY_QUIET_MS = 200;
/** ...or, if something still writes to it (a background child), after this long at most. */
const PTY_DRAIN_MAX_MS = 5000;
/** How often a draining terminal is read. */
const PTY_DRAIN_POLL_MS = 5;
/**
 * What a drain hands on at most: the kernel holds far less for a reaped command; more means
 * a background child still writes (`yes &`), which must not bypass backpressure for long.
 */
const PTY_DRAIN_MAX_BYTES = 1024 * 1024;

/**
 * node-pty gives up on a terminal 200 ms after reaping its command (it destroys its socket),
 * and the stream also ends itself on a read that comes back empty, which the kernel can
 * answer while the command's last bytes are still on their way through the terminal's
 * buffers. Either way what the kernel still holds would be lost. So the first argument-less
 * `destroy()` starts a drain instead: what the stream read ahead is handed on, then the
 * terminal is read directly until nothing has come for PTY_QUIET_MS (empty reads, EAGAIN and
 * EIO all count as nothing yet), at most PTY_DRAIN_MAX_MS and PTY_DRAIN_MAX_BYTES; only then is it destroyed and the
 * exit reported. A destroy with an error (a real read failure) goes through at once.
 * `_socket` and `_fd` are node-pty's (1.1) private fields; without them we keep its behaviour.
 */
function drainBeforeGivingUp(term: PtyTerminal, deliver: (data: Buffer) => void): void {
  const socket = (term as unknown as { _socket?: Socket })._socket;
  const fd = (term as unknown as { _fd?: number })._fd;
  if (!socket || typeof socket.destroy !== 'function' || typeof fd !== 'number') return;
  const destroy = socket.destroy.bind(socket);
  const pause = socket.pause.bind(socket);
  let draining = false;
  socket.destroy = (err?: Error) => {
    if (err !== undefined || socket.destroyed) return destroy(err);
    if (draining) return socket;
    draining = true;
    // Stop the stream's own reads, keep what it read ahead, and from now on read here, in order.
    pause();
    socket.pause = () => socket;
    socket.resume = () => socket;
    for (let chunk = socket.read() as Buffer | null; chunk !== null; chunk = socket.read() as Buffer | null)
      deliver(chunk);
    const started = Date.now();
    let lastData = started;
    let drained = 0;
    const buffer = Buffer.allocUnsafe(64 * 1024);
    const poll = () => {
      if (socket.destroyed) return;
      for (;;) {
        let n: number;
        try {
          n = readSync(fd, buffer, 0, buffer.length, null);
        } catch {
          n = 0; // EAGAIN (nothing yet) or EIO (the other side is gone): both mean nothing now
        }
        if (n <= 0) break;
        deliver(Buffer.from(buffer.subarray(0, n)));
        lastData = Date.now();
        drained += n;
        if (drained >= PTY_DRAIN_MAX_BYTES) break;
      }
      const now = Date.now();
      if (now - lastData >= PTY_QUIET_MS || now - started >= PTY_DRAIN_MAX_MS || drained >= PTY_DRAIN_MAX_BYTES)
        return void destroy();
      setTimeout(poll, PTY_DRAIN_POLL_MS);
    };
    poll();
    return socket;
  };
}

/**
 * The terminal's last bytes when a slow client had paused it: the stream then holds what it
 * read ahead (up to its high-water mark), the next read hits EIO (the command is gone) and
 * the stream is destroyed with that error, dropping what it held. Our listener runs before
 * node-pty's, which reports the close and so the exit: it hands those bytes on first.
 */
function keepBufferedOutputOnEio(term: PtyTerminal, deliver: (data: Buffer | string) => void): void {
  const socket = (term as unknown as { _socket?: Socket })._socket;
  if (!socket || typeof socket.prependListener !== 'function') return;
  socket.prependListener('error', () => {
    for (
      let chunk = socket.read() as Buffer | string | null;
      chunk !== null;
      chunk = socket.read() as Buffer | string | null
    )
      deliver(chunk);
  });
}

/**
 * A command on a real pseudo-terminal inside the sprite (TTY exec).
 *
 * node-pty reports the exit only once the terminal's reading side has ended (EIO after the
 * last byte); `drainBeforeGivingUp` keeps it from cutting that short, so the exit follows
 * every byte of output even when the terminal was paused for a slow client.
 *
 * A reaped pid may be reused by another process: signals go only to the process we
 * started, checked by its start time, and never after the exit.
 */
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
  giveUserOomScore(term.pid);
  const startTime = processStartTime(term.pid);
  const isOurs = () => startTime !== null && processStartTime(term.pid) === startTime;
  const outputListeners: ((stream: 1 | 2, data: Buffer) => void)[] = [];
  const exitListeners: ((code: number) => void)[] = [];
  let exited = false;
  const deliver = (d: string | Buffer) => {
    const b = typeof d === 'string' ? Buffer.from(d) : d;
    for (const l of outputListeners) l(1, b);
  };
  term.onData(deliver);
  drainBeforeGivingUp(term, deliver);
  keepBufferedOutputOnEio(term, deliver);
  term.onExit(({ exitCode, signal }) => {
    exited = true;
    const code = signal ? signalExitCode(signal) : exitCode;
    exitListeners.forEach((l) => l(code));
  });
  return {
    pid: term.pid,
    write: (data) => !exited && term.write(data),
    endInput: () => undefined,
    resize: (cols, rows) => !exited && term.resize(cols, rows),
    signal: (s) => !exited && isOurs() && killGroup(term.pid, s),
    pause: () => !exited && term.pause(),
    resume: () => !exited && term.resume(),
    onOutput: (l) => void outputListeners.push(l),
    onExit: (l) => void exitListeners.push(l),
  };
}
