import { ConnectionError, ExecError, type ExecResult } from '../errors.js';
import { spritePath, StreamId } from '@sprites/protocol';
import { chunksOf, concatBytes, type InputSource, type SpriteContext, type StreamKinds } from '../platform.js';
import { Cmd, envPairs, type CommandOptions } from './cmd.js';
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
export function spawnCommand<K extends StreamKinds>(
  ctx: SpriteContext<K>,
  command: string,
  args: readonly string[] = [],
  options: SpawnOptions = {},
): Cmd<K> {
  const { sessionId, ...rest } = options;
  const opts: CommandOptions = { ...rest, stdin: rest.stdin ?? 'pipe' };
  const cmd =
    sessionId !== undefined
      ? new Cmd(ctx, { attachId: sessionId }, opts)
      : new Cmd(ctx, { argv: [command, ...args] }, opts);
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
  const decode = (bytes: Uint8Array) =>
    encoding === 'buffer' || encoding === null ? ctx.platform.bytes(bytes) : new TextDecoder().decode(bytes);
  const result = {
    stdout: decode(collectors.stdout()),
    stderr: decode(collectors.stderr()),
    exitCode: code,
  } as ExecResult<Decoded<E>>;
  if (overflow !== undefined) {
    throw new ExecError(
      `${overflow === StreamID.Stdout ? 'stdout' : 'stderr'} maxBuffer length exceeded (${maxBuffer} bytes)`,
      result,
    );
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

/** Options of `execFileHTTP()`: one HTTP request, no WebSocket, no TTY. */
export interface HTTPExecOptions extends ExecOptions {
  /** Sees output as it arrives (the result still holds all of it). */
  onOutput?: (stream: 'stdout' | 'stderr', chunk: Uint8Array) => void;
}

/**
 * Runs a program over one HTTP request instead of a WebSocket (proxies that refuse
 * upgrades, environments without WebSockets). No TTY. It asks our server for
 * length-prefixed chunks, so output is split exactly however the network delivers it.
 */
export async function execFileHTTPCommand<K extends StreamKinds, E extends ExecOptions['encoding'] = 'utf8'>(
  ctx: SpriteContext<K>,
  file: string,
  args: readonly string[] = [],
  options: HTTPExecOptions & { encoding?: E } = {},
): Promise<ExecResult<Decoded<E>>> {
  const { input, encoding, maxBuffer = DEFAULT_MAX_BUFFER, onOutput, env, cwd, dir, signal, timeout } = options;
  const envList = envPairs(env);
  const body = input === undefined ? undefined : await collectInput(input);
  const { response, deadline } = await ctx.transport.send('POST', spritePath('exec', { name: ctx.name }), {
    query: {
      cmd: [file, ...args],
      path: file,
      env: envList,
      dir: cwd ?? dir,
      stdin: body ? 'true' : 'false',
      framing: 'length',
    },
    body,
    streaming: true,
    signal,
    timeout: timeout ?? 0,
  });
  const out: Uint8Array[] = [];
  const err: Uint8Array[] = [];
  let size = 0;
  let code = -1;
  let overflow = false;
  const parser = new LengthFramer((stream, payload) => {
    if (stream === StreamId.Exit) code = payload[0] ?? -1;
    else if (stream === StreamId.Stdout || stream === StreamId.Stderr) {
      size += payload.length;
      overflow ||= size > maxBuffer;
      (stream === StreamId.Stdout ? out : err).push(payload);
      onOutput?.(stream === StreamId.Stdout ? 'stdout' : 'stderr', payload);
    }
  });
  const reader = response.body?.getReader();
  try {
    // Stopping the read ends the request, and the server kills the command.
    while (!overflow) {
      const chunk = await reader?.read();
      if (!chunk || chunk.done) break;
      parser.push(chunk.value as Uint8Array);
    }
  } catch (e) {
    if (deadline.aborted) throw deadline.reason;
    throw new ConnectionError(`the exec answer was cut off: ${e instanceof Error ? e.message : String(e)}`, {
      cause: e,
    });
  } finally {
    deadline.dispose();
    await reader?.cancel().catch(() => undefined);
  }
  const decode = (chunks: Uint8Array[]) => {
    const bytes = concatBytes(chunks);
    return encoding === 'buffer' || encoding === null ? ctx.platform.bytes(bytes) : new TextDecoder().decode(bytes);
  };
  const result = { stdout: decode(out), stderr: decode(err), exitCode: code } as ExecResult<Decoded<E>>;
  if (overflow) throw new ExecError(`output maxBuffer length exceeded (${maxBuffer} bytes)`, result);
  if (code < 0) throw new ConnectionError('the exec answer ended without an exit code');
  if (code !== 0) throw new ExecError(`Command failed with exit code ${code}: ${[file, ...args].join(' ')}`, result);
  return result;
}

/** Splits `[stream][u32 length][payload]` frames out of arbitrary byte chunks. */
class LengthFramer {
  private pending = new Uint8Array(0);

  constructor(private readonly onFrame: (stream: number, payload: Uint8Array) => void) {}

  push(chunk: Uint8Array): void {
    let data = this.pending.length > 0 ? concatBytes([this.pending, chunk]) : chunk;
    while (data.length >= 5) {
      const length = new DataView(data.buffer, data.byteOffset + 1, 4).getUint32(0);
      if (data.length < 5 + length) break;
      this.onFrame(data[0]!, data.slice(5, 5 + length));
      data = data.subarray(5 + length);
    }
    this.pending = data.slice();
  }
}

async function collectInput(input: InputSource): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  for await (const c of chunksOf(input)) chunks.push(c);
  return concatBytes(chunks);
}
