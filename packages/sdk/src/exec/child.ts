import { ExecError, type ExecResult } from '../errors.js';
import type { SpriteContext } from '../context.js';
import type { InputSource, StreamKinds } from '../platform.js';
import { Cmd, type CommandOptions } from './cmd.js';
import { StreamID } from './frames.js';

/** Options of `spawn()`: a command whose stdin is a pipe unless `stdin: 'ignore'`. */
export interface SpawnOptions extends CommandOptions {
  /** Attach to this existing session instead of starting a command. */
  sessionId?: string;
}

/** Options of `exec()`/`execFile()`. */
export interface ExecOptions extends Omit<CommandOptions, 'stdin'> {
  /** Sent as the command's stdin, then EOF. Without it the command has no stdin. */
  input?: InputSource;
  /** `'utf8'` (default) gives strings; `'buffer'` gives bytes. */
  encoding?: 'utf8' | 'buffer' | null;
  /** Bytes of stdout or stderr after which the command is killed and the call rejects (10 MiB). */
  maxBuffer?: number;
}

const DEFAULT_MAX_BUFFER = 10 * 1024 * 1024;

/** Starts a command at once (the official JS SDK's `spawn`); listen for `spawn`/`exit`. */
export function spawnCommand<K extends StreamKinds>(ctx: SpriteContext<K>, command: string, args: readonly string[] = [], options: SpawnOptions = {}): Cmd<K> {
  const { sessionId, ...rest } = options;
  const opts: CommandOptions = { ...rest, stdin: rest.stdin ?? 'pipe' };
  const cmd = sessionId !== undefined ? new Cmd(ctx, { attachId: sessionId }, opts) : new Cmd(ctx, { argv: [command, ...args] }, opts);
  // Make the streams now so nothing is missed; errors surface through `error` and wait().
  void cmd.stdout;
  void cmd.stderr;
  if (opts.stdin === 'pipe') void cmd.stdin;
  cmd.start().catch(() => undefined);
  return cmd;
}

type Decoded<E> = E extends 'buffer' | null ? Uint8Array : string;

/** Runs a program with arguments and collects its output (the official JS SDK's `execFile`). */
export async function execFileCommand<K extends StreamKinds, E extends ExecOptions['encoding'] = 'utf8'>(
  ctx: SpriteContext<K>,
  file: string,
  args: readonly string[] = [],
  options: ExecOptions & { encoding?: E } = {},
): Promise<ExecResult<Decoded<E>>> {
  const { input, encoding, maxBuffer = DEFAULT_MAX_BUFFER, ...rest } = options;
  const cmd = new Cmd(ctx, { argv: [file, ...args] }, { ...rest, stdin: input ?? 'ignore' });
  const sizes = { [StreamID.Stdout]: 0, [StreamID.Stderr]: 0 };
  let overflow: StreamID | undefined;
  const collectors = { stdout: cmd.collect(StreamID.Stdout), stderr: cmd.collect(StreamID.Stderr) };
  cmd.onOutput((stream, chunk) => {
    sizes[stream] += chunk.length;
    if (overflow === undefined && sizes[stream] > maxBuffer) {
      overflow = stream;
      cmd.kill('KILL');
    }
  });
  await cmd.start();
  const code = await cmd.wait();
  const decode = (bytes: Uint8Array) => (encoding === 'buffer' || encoding === null ? ctx.platform.bytes(bytes) : new TextDecoder().decode(bytes));
  const result = { stdout: decode(collectors.stdout()), stderr: decode(collectors.stderr()), exitCode: code } as ExecResult<Decoded<E>>;
  if (overflow !== undefined) {
    throw new ExecError(`${overflow === StreamID.Stdout ? 'stdout' : 'stderr'} maxBuffer length exceeded (${maxBuffer} bytes)`, result);
  }
  if (code !== 0) throw new ExecError(`Command failed with exit code ${code}: ${cmd.toString()}`, result);
  return result;
}

/**
 * Runs a command line through `/bin/sh -c`, as Node's `child_process.exec` does (the official
 * JS SDK split the string on spaces instead, so quotes and pipes did not work).
 */
export function execCommand<K extends StreamKinds, E extends ExecOptions['encoding'] = 'utf8'>(
  ctx: SpriteContext<K>,
  command: string,
  options: ExecOptions & { encoding?: E } = {},
): Promise<ExecResult<Decoded<E>>> {
  return execFileCommand(ctx, '/bin/sh', ['-c', command], options);
}
