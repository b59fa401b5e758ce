import { spritePath } from '@sprites/protocol';
import { Deadline } from '../abort.js';
import type { Channel } from '../channel.js';
import { Emitter } from '../emitter.js';
import { AbortError, ConnectionError, ExitError } from '../errors.js';
import type { Query } from '../http.js';
import {
  chunksOf,
  concatBytes,
  type InputSource,
  type ReadableSource,
  type SpriteContext,
  type StreamKinds,
} from '../platform.js';
import type { NodeStreamKinds } from '../node/kinds.js';
import {
  frame,
  parseTextFrame,
  StreamID,
  type PortNotification,
  type ServerMessage,
  type SessionInfo,
} from './frames.js';

/** Options of a command (the union of the official JS SDK's SpawnOptions and Go's Cmd fields). */
export interface CommandOptions {
  /** Environment: `{ KEY: 'value' }` or `['KEY=value']`. Replaces the sprite's default when set. */
  env?: Record<string, string> | readonly string[];
  /** Working directory (default: the user's home, /home/sprite). */
  cwd?: string;
  /** The same as `cwd`, under Go's name. */
  dir?: string;
  /** Run on a pseudo-terminal: raw bytes, one output stream, a real exit code at the end. */
  tty?: boolean;
  rows?: number;
  cols?: number;
  /**
   * Standard input. `'pipe'` gives a writable `cmd.stdin`; data (string, bytes, a stream or
   * an iterable) is sent and then closed; `'ignore'` (the default for `command()`) tells the
   * server there is none, so a command that reads stdin sees EOF at once.
   */
  // eslint-disable-next-line @typescript-eslint/no-redundant-type-constituents -- 'pipe' and 'ignore' are named for readers and editors; any other string is input
  stdin?: 'pipe' | 'ignore' | InputSource;
  /** TTY sessions can be detached and re-attached (the server's default for TTY). */
  detachable?: boolean;
  /** How long the command may run after the connection drops, e.g. `"30s"`; `"0s"` = forever. */
  maxRunAfterDisconnect?: string;
  /** Kills the remote process and rejects `wait()` when aborted. */
  signal?: AbortSignal;
  /** Milliseconds before the command is killed as if aborted; 0 (default) = no limit. */
  timeout?: number;
}

/** `{ A: '1' }` or `['A=1']` as the `KEY=VALUE` list the exec endpoints take. */
export function envPairs(env: CommandOptions['env']): string[] | undefined {
  if (env === undefined) return undefined;
  return Array.isArray(env) ? [...(env as readonly string[])] : Object.entries(env).map(([k, v]) => `${k}=${v}`);
}

/** Internal: how the command connects (a new process or an existing session). */
export interface CmdTarget {
  argv?: readonly string[];
  attachId?: string;
}

interface CmdEvents extends Record<string, unknown[]> {
  spawn: [];
  exit: [code: number];
  error: [err: Error];
  /** Every JSON text frame (session_info, ports, exit, …), or the raw text if it is not JSON. */
  message: [msg: ServerMessage | string];
  port: [notification: PortNotification];
  session: [info: SessionInfo];
}

type State = 'new' | 'starting' | 'running' | 'done';

/** Queued stdin bytes above which writers wait for the socket to drain. */
/** The most stdin one WebSocket message carries. */
const STDIN_FRAME_BYTES = 64 * 1024;
const STDIN_HIGH_WATER = 1024 * 1024;
/** After a kill for an abort, how long to wait for the exit before dropping the socket. */
const KILL_GRACE_MS = 2000;

/**
 * A command on a sprite, shaped after Go's `exec.Cmd` in TypeScript idiom and compatible with
 * the official JS SDK's `SpriteCommand` (events `spawn`, `exit`, `error`, `message`; `wait()`
 * resolving the exit code; `kill`, `signal`, `resize(cols, rows)`).
 *
 * Nothing is sent until `start()` (or `run()`, `output()`, `combinedOutput()`). Access
 * `stdout`, `stderr` and `stdin` before starting (or right after `spawn()`), so no output is
 * missed.
 */
export class Cmd<K extends StreamKinds = NodeStreamKinds> extends Emitter<CmdEvents> {
  /** The program (argv[0]); empty when attaching to a session. */
  readonly path: string;
  /** The whole argv, argv[0] included, as Go's `Cmd.Args`. */
  readonly args: readonly string[];
  private readonly ctx: SpriteContext<K>;
  private readonly target: CmdTarget;
  private readonly opts: CommandOptions;
  private state: State = 'new';
  private channel: Channel | undefined;
  private deadline: Deadline | undefined;
  private tty: boolean;
  private rows: number | undefined;
  private cols: number | undefined;
  private wantStdin: boolean;
  private stdoutSource: ReadableSource<K['readable']> | undefined;
  private stderrSource: ReadableSource<K['readable']> | undefined;
  private stdinStream: K['writable'] | undefined;
  private pendingStdin: Uint8Array[] = [];
  private stdinClosed = false;
  /** Whether the socket is paused because an output stream's reader lags. */
  private readPaused = false;
  private readonly collectors: ((stream: StreamID.Stdout | StreamID.Stderr, chunk: Uint8Array) => void)[] = [];
  private code = -1;
  private session: SessionInfo | undefined;
  private readonly done: Promise<number>;
  private settle!: { resolve: (code: number) => void; reject: (err: Error) => void };

  /** @internal Use `sprite.command()`, `sprite.spawn()` or `sprite.attachSession()`. */
  constructor(ctx: SpriteContext<K>, target: CmdTarget, opts: CommandOptions = {}) {
    super();
    this.ctx = ctx;
    this.target = target;
    this.opts = opts;
    this.args = [...(target.argv ?? [])];
    this.path = this.args[0] ?? '';
    this.tty = opts.tty ?? false;
    this.rows = opts.rows;
    this.cols = opts.cols;
    this.wantStdin = opts.stdin !== undefined && opts.stdin !== 'ignore';
    this.done = new Promise<number>((resolve, reject) => {
      this.settle = { resolve, reject };
    });
    // wait() is optional for callers who only listen for events.
    this.done.catch(() => undefined);
  }

  /** The command's standard output (in TTY mode, everything the terminal shows). */
  get stdout(): K['readable'] {
    this.stdoutSource ??= this.source();
    if (this.state === 'done') this.stdoutSource.end();
    return this.stdoutSource.stream;
  }

  /** The command's standard error (empty in TTY mode). */
  get stderr(): K['readable'] {
    this.stderrSource ??= this.source();
    if (this.state === 'done') this.stderrSource.end();
    return this.stderrSource.stream;
  }

  /**
   * The command's standard input. Taking it before `start()` asks the server for a stdin;
   * end it to send EOF.
   */
  get stdin(): K['writable'] {
    if (this.state === 'new') this.wantStdin = true;
    this.stdinStream ??= this.ctx.platform.writable({
      write: (c) => this.writeStdin(c),
      close: () => this.closeStdin(),
    });
    return this.stdinStream;
  }

  /** Go's `StdinPipe()`. */
  stdinPipe(): K['writable'] {
    return this.stdin;
  }

  /** Go's `StdoutPipe()`. */
  stdoutPipe(): K['readable'] {
    return this.stdout;
  }

  /** Go's `StderrPipe()`. */
  stderrPipe(): K['readable'] {
    return this.stderr;
  }

  /** Runs on a pseudo-terminal (set before `start()`). */
  setTTY(on: boolean): this {
    if (this.state !== 'new') throw new Error('setTTY must be called before the command starts');
    this.tty = on;
    return this;
  }

  /** Before start: the initial terminal size. After: resizes the terminal (Go's order). */
  setTTYSize(rows: number, cols: number): this {
    this.rows = rows;
    this.cols = cols;
    if (this.state === 'running') this.sendJson({ type: 'resize', cols, rows });
    return this;
  }

  /** Resizes the terminal: columns first, as the official JS SDK's `resize(cols, rows)`. */
  resize(cols: number, rows: number): void {
    this.setTTYSize(rows, cols);
  }

  /** Sends a signal to the remote process: `TERM`, `SIGINT`, `KILL`, … */
  signal(name: string): void {
    if (this.state !== 'running') return;
    this.sendJson({ type: 'signal', signal: name });
  }

  /** The official JS SDK's `kill()`: sends a signal (default SIGTERM). */
  kill(signal = 'SIGTERM'): void {
    this.signal(signal);
  }

  /**
   * Closes the connection without killing the command: a TTY session stays attachable, a
   * non-TTY command runs on for its `maxRunAfterDisconnect`. `wait()` rejects with a
   * ConnectionError saying so.
   */
  disconnect(): void {
    if (this.state === 'done') return;
    this.finish(new ConnectionError('disconnected by the caller; the command may still run (attach to its session)'));
  }

  /** The exit code, or -1 while the command runs (and when it never reported one). */
  exitCode(): number {
    return this.code;
  }

  /** The session id the server gave this command (known once it started). */
  get sessionId(): string | undefined {
    return this.session?.session_id ?? this.target.attachId;
  }

  /** Whether the command turned out to run on a TTY (for an attach, the session's mode). */
  get isTTY(): boolean {
    return this.tty;
  }

  /** Connects and starts the command; resolves once it runs (the `spawn` event). */
  start(): Promise<void> {
    if (this.state !== 'new') return Promise.reject(new Error('the command was already started'));
    this.state = 'starting';
    return new Promise<void>((resolve, reject) => {
      const deadline = new Deadline(`command ${this.toString()}`, {
        signal: this.opts.signal,
        timeout: this.opts.timeout,
      });
      this.deadline = deadline;
      if (deadline.aborted) {
        this.finish(deadline.reason);
        return reject(deadline.reason);
      }
      deadline.signal.addEventListener('abort', () => this.onAbort(), { once: true });
      const [path, query] = this.url();
      let channel: Channel;
      try {
        channel = this.ctx.platform.connect(this.ctx.transport.wsURL(path, query), this.ctx.transport.bearerToken, {
          open: () => {
            this.state = 'running';
            resolve();
            this.emit('spawn');
            this.flushStdin();
          },
          message: (data) => this.onMessage(data),
          close: (code, reason, error) => {
            if (this.state === 'starting')
              reject(error ?? new ConnectionError(`the exec connection closed before it opened (code ${code})`));
            this.onClose(code, reason, error);
          },
        });
      } catch (e) {
        const err = e instanceof Error ? e : new Error(String(e));
        this.finish(err);
        return reject(err);
      }
      this.channel = channel;
    });
  }

  /** Resolves the exit code once the command ended; rejects if the connection failed or was aborted. */
  wait(): Promise<number> {
    return this.done;
  }

  /** Starts and waits; a non-zero exit rejects with {@link ExitError} (Go's `Run`). */
  async run(): Promise<void> {
    const stderr = this.collect(StreamID.Stderr);
    if (this.state === 'new') await this.start();
    const code = await this.wait();
    if (code !== 0) throw new ExitError(code, stderr());
  }

  /** Runs the command and returns its stdout; a non-zero exit rejects with {@link ExitError}. */
  async output(): Promise<K['bytes']> {
    const stdout = this.collect(StreamID.Stdout);
    const stderr = this.collect(StreamID.Stderr);
    if (this.state === 'new') await this.start();
    const code = await this.wait();
    if (code !== 0) throw new ExitError(code, stderr(), stdout());
    return this.ctx.platform.bytes(stdout());
  }

  /** Runs the command and returns stdout and stderr interleaved as they arrived. */
  async combinedOutput(): Promise<K['bytes']> {
    const both = this.collect(StreamID.Stdout, StreamID.Stderr);
    const stderr = this.collect(StreamID.Stderr);
    if (this.state === 'new') await this.start();
    const code = await this.wait();
    if (code !== 0) throw new ExitError(code, stderr(), both());
    return this.ctx.platform.bytes(both());
  }

  /** The command line, as Go's `String()`. */
  override toString(): string {
    return this.target.attachId !== undefined ? `attach ${this.target.attachId}` : this.args.join(' ');
  }

  /** @internal Collects the given streams from now on; call the result for the bytes. */
  collect(...streams: StreamID[]): () => Uint8Array {
    const chunks: Uint8Array[] = [];
    this.onOutput((stream, chunk) => {
      if (streams.includes(stream)) chunks.push(new Uint8Array(chunk));
    });
    return () => concatBytes(chunks);
  }

  /** @internal Sees every chunk of output as it arrives (the bytes are only valid during the call). */
  onOutput(fn: (stream: StreamID.Stdout | StreamID.Stderr, chunk: Uint8Array) => void): void {
    this.collectors.push(fn);
  }

  private url(): [string, Query] {
    const name = this.ctx.name;
    const o = this.opts;
    const env = envPairs(o.env);
    const query: Query = {
      env,
      dir: o.cwd ?? o.dir,
      stdin: this.wantStdin ? 'true' : 'false',
    };
    if (this.tty) {
      query.tty = 'true';
      if (this.rows) query.rows = String(this.rows);
      if (this.cols) query.cols = String(this.cols);
    }
    if (o.detachable) query.detachable = 'true';
    if (o.maxRunAfterDisconnect !== undefined) query.max_run_after_disconnect = o.maxRunAfterDisconnect;
    if (this.target.attachId !== undefined)
      return [spritePath('execSession', { name, session: this.target.attachId }), query];
    return [spritePath('exec', { name }), { cmd: this.args, path: this.path, ...query }];
  }

  private onMessage(data: string | Uint8Array): void {
    if (this.state === 'done') return;
    if (typeof data === 'string') {
      const msg = parseTextFrame(data);
      if (msg === null) return;
      if (typeof msg !== 'string') {
        if (msg.type === 'session_info') {
          this.session = msg as SessionInfo;
          // An attach takes the session's mode; the server frames by it.
          if (typeof this.session.tty === 'boolean') this.tty = this.session.tty;
          this.emit('session', this.session);
        } else if (msg.type === 'port_opened' || msg.type === 'port_closed') {
          this.emit('port', msg as PortNotification);
        }
      }
      this.emit('message', msg);
      if (
        typeof msg !== 'string' &&
        msg.type === 'exit' &&
        typeof (msg as { exit_code?: unknown }).exit_code === 'number'
      ) {
        this.exited((msg as { exit_code: number }).exit_code);
      }
      return;
    }
    if (this.tty) return this.deliver(StreamID.Stdout, data);
    const id = data[0];
    const payload = data.subarray(1);
    if (id === StreamID.Stdout || id === StreamID.Stderr) this.deliver(id, payload);
    else if (id === StreamID.Exit) this.exited(payload[0] ?? 0);
  }

  private deliver(stream: StreamID.Stdout | StreamID.Stderr, chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    for (const c of this.collectors) c(stream, chunk);
    const source = stream === StreamID.Stdout ? this.stdoutSource : this.stderrSource;
    // Chunks may be views into the socket's buffer: copy what a stream keeps.
    const wantsMore = source?.push(new Uint8Array(chunk)) ?? true;
    // Backpressure: while a stream's reader lags, stop reading the socket, so the server
    // stops sending and pauses the command (as a full pipe blocks a local child). When
    // output is collected in memory (output(), exec) the collector is the reader instead.
    if (!wantsMore && this.collectors.length === 0 && !this.readPaused) {
      this.readPaused = true;
      this.channel?.pause();
    }
  }

  /** A stream for stdout or stderr whose reader catching up resumes the socket. */
  private source(): ReadableSource<K['readable']> {
    const source = this.ctx.platform.readable();
    source.onDrain(() => {
      if (!this.readPaused) return;
      this.readPaused = false;
      this.channel?.resume();
    });
    return source;
  }

  private exited(code: number): void {
    if (this.state === 'done') return;
    this.code = code;
    this.finish();
    // The exit is the end: no need to wait for the server's close handshake.
    this.channel?.close(1000);
  }

  private onClose(code: number, _reason: string, error?: Error): void {
    if (this.state === 'done') return;
    if (this.deadline?.aborted) return this.finish(this.deadline.reason);
    this.finish(
      error ??
        new ConnectionError(`the connection closed before the command reported an exit code (close code ${code})`),
    );
  }

  private onAbort(): void {
    if (this.state === 'done') return;
    if (this.state === 'running') {
      this.sendJson({ type: 'signal', signal: 'KILL' });
      const timer = setTimeout(() => this.channel?.close(1000), KILL_GRACE_MS);
      void this.done.catch(() => undefined).finally(() => clearTimeout(timer));
      // Wait() rejects now; the socket goes once the kill is acknowledged by the exit.
      this.rejectOnly(this.deadline?.reason ?? new AbortError());
      return;
    }
    this.channel?.close(1000);
    this.finish(this.deadline?.reason ?? new AbortError());
  }

  private rejected = false;

  private rejectOnly(err: Error): void {
    if (this.rejected) return;
    this.rejected = true;
    this.settle.reject(err);
    if (this.listenerCount('error') > 0) this.emit('error', err);
  }

  /** Ends the streams and settles `wait()` (with the exit code, or `err`). */
  private finish(err?: Error): void {
    if (this.state === 'done') return;
    this.state = 'done';
    this.deadline?.dispose();
    this.stdoutSource?.end();
    this.stderrSource?.end();
    this.pendingStdin = [];
    if (err) {
      this.rejectOnly(err);
      this.channel?.close(1000);
    } else if (!this.rejected) {
      this.settle.resolve(this.code);
      this.emit('exit', this.code);
    }
  }

  private sendJson(msg: Record<string, unknown>): void {
    try {
      this.channel?.send(JSON.stringify(msg));
    } catch {
      // The socket is closing; the close handler reports it.
    }
  }

  private async writeStdin(chunk: Uint8Array): Promise<void> {
    // Large writes go as several frames: servers cap a message's size (ours at 1 MiB).
    for (let o = 0; o < chunk.length; o += STDIN_FRAME_BYTES)
      await this.writeStdinFrame(chunk.subarray(o, o + STDIN_FRAME_BYTES));
  }

  private async writeStdinFrame(chunk: Uint8Array): Promise<void> {
    if (this.state === 'done' || this.stdinClosed || chunk.length === 0) return;
    const data = this.tty ? chunk : frame(StreamID.Stdin, chunk);
    if (this.state !== 'running') {
      this.pendingStdin.push(data);
      return;
    }
    this.channel?.send(data);
    while (this.state === 'running' && (this.channel?.bufferedAmount ?? 0) > STDIN_HIGH_WATER)
      await new Promise((r) => setTimeout(r, 5));
  }

  private async closeStdin(): Promise<void> {
    if (this.stdinClosed) return;
    this.stdinClosed = true;
    if (this.state === 'running') this.sendStdinEof();
  }

  private sendStdinEof(): void {
    // A terminal has no end-of-file frame: the program sees EOF when it reads ^D.
    if (!this.tty) this.channel?.send(frame(StreamID.StdinEOF));
  }

  private flushStdin(): void {
    for (const data of this.pendingStdin) this.channel?.send(data);
    this.pendingStdin = [];
    const input = this.opts.stdin;
    if (input !== undefined && input !== 'pipe' && input !== 'ignore') {
      void this.pump(input);
    } else if (this.stdinClosed) {
      this.sendStdinEof();
    }
  }

  private async pump(input: InputSource): Promise<void> {
    try {
      for await (const chunk of chunksOf(input)) {
        if (this.state !== 'running') return;
        await this.writeStdin(chunk);
      }
      if (this.state === 'running') {
        this.stdinClosed = true;
        this.sendStdinEof();
      }
    } catch (e) {
      this.finish(new Error(`reading stdin for the command failed: ${e instanceof Error ? e.message : String(e)}`));
    }
  }
}
