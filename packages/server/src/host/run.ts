import { spawn, type StdioOptions } from 'node:child_process';

export interface RunOptions {
  /** Bytes written to the child's stdin, then closed. */
  input?: string | Buffer;
  /** Kill the child and fail after this many milliseconds. */
  timeoutMs?: number;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Accept these exit codes besides 0 (the caller inspects `code`). */
  okCodes?: number[];
  /** Replaces the default piped stdio (e.g. to hand a log file to a detached child). */
  stdio?: StdioOptions;
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** A host command that failed; carries what it printed so the caller's error says why. */
export class CommandError extends Error {
  constructor(
    readonly argv: readonly string[],
    readonly code: number | null,
    readonly stdout: string,
    readonly stderr: string,
    signal: NodeJS.Signals | null = null,
  ) {
    const why = stderr.trim() || stdout.trim() || (signal ? `killed by ${signal}` : `exit code ${code}`);
    super(`${argv.join(' ')}: ${why.slice(0, 2000)}`);
    this.name = 'CommandError';
  }
}

/**
 * Run a host program to completion without a shell and collect its output.
 * Rejects with CommandError on a non-accepted exit code, a signal, or a timeout.
 */
export function run(file: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, {
      stdio: options.stdio ?? 'pipe',
      env: options.env ?? process.env,
      cwd: options.cwd,
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let timer: NodeJS.Timeout | undefined;
    let timedOut = false;
    if (options.timeoutMs !== undefined) {
      timer = setTimeout(() => {
        timedOut = true;
        child.kill('SIGKILL');
      }, options.timeoutMs);
    }
    child.stdout?.on('data', (b: Buffer) => out.push(b));
    child.stderr?.on('data', (b: Buffer) => err.push(b));
    child.on('error', (e) => {
      if (timer) clearTimeout(timer);
      reject(new Error(`${file}: ${e.message}`, { cause: e }));
    });
    child.on('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      const stdout = Buffer.concat(out).toString('utf8');
      const stderr = Buffer.concat(err).toString('utf8');
      if (timedOut) {
        reject(new CommandError([file, ...args], code, stdout, `timed out after ${options.timeoutMs} ms. ${stderr}`));
        return;
      }
      const exit = code ?? -1;
      if (signal || !(exit === 0 || options.okCodes?.includes(exit))) {
        reject(new CommandError([file, ...args], code, stdout, stderr, signal));
        return;
      }
      resolve({ code: exit, stdout, stderr });
    });
    child.stdin?.on('error', () => undefined);
    if (options.input !== undefined) child.stdin?.end(options.input);
    else child.stdin?.end();
  });
}
