import { StreamId, type ClientControlMessage, type SessionInfoMessage } from '@sprites/protocol';
import type { WebSocket } from 'ws';
import type { ProcessHandle } from './process.js';
import { signalNumber } from './process.js';
import { RingBuffer } from './ring-buffer.js';

/** Scrollback kept per session and replayed to whoever attaches. */
const SCROLLBACK_BYTES = 1024 * 1024;
/** Output frames carry at most this much (PROTOCOL.md §5.8). */
const MAX_FRAME = 64 * 1024;
/** The owner's unsent bytes above which the command's output is paused (ADR 0020)... */
export const OWNER_HIGH_WATER = 1024 * 1024;
/** ...and below which it is resumed. */
export const OWNER_LOW_WATER = 256 * 1024;
/** A non-owner attacher with more unsent bytes than this is dropped (ADR 0020). */
export const ATTACHER_MAX_BUFFERED = 4 * 1024 * 1024;
/** Close code and reason a dropped slow attacher sees (4000-4999: application codes). */
export const SLOW_CONSUMER_CLOSE = 4008;
const SLOW_CONSUMER_REASON = 'slow consumer: output not read; re-attach to continue';
/** How long a dropped attacher's close handshake may take before its socket is destroyed. */
const DROP_GRACE_MS = 5000;

export interface SessionSpec {
  id: string;
  command: string;
  workdir: string;
  tty: boolean;
  cols: number;
  rows: number;
  /** How long a command keeps running with nobody attached (Infinity: until it ends). */
  maxRunAfterDisconnectMs: number;
}

export interface SessionSummary {
  id: string;
  command: string;
  workdir: string;
  created: string;
  bytes_per_second: number;
  is_active: boolean;
  last_activity: string;
  tty: boolean;
}

/**
 * One command and everyone attached to it. Output goes to every attacher and into the
 * scrollback; input from any attacher goes to the command. The exit is announced only
 * after all output (TTY: JSON `exit`; otherwise the `[0x03, code]` frame), then sockets close.
 */
export class Session {
  readonly created = new Date();
  lastActivity = new Date();
  exitCode: number | null = null;
  private bytesOut = 0;
  private cols: number;
  private rows: number;
  private readonly attachers = new Set<WebSocket>();
  /** The socket that started the command: the one consumer output waits for. */
  private owner: WebSocket | null = null;
  /** Whether the command's output is paused because the owner lags. */
  private paused = false;
  /** TTY: raw bytes. Non-TTY: framed bytes (stream id + data), replayed frame by frame. */
  private readonly scrollback = new RingBuffer(SCROLLBACK_BYTES);
  private readonly frames: Buffer[] = [];
  private framesBytes = 0;
  private orphanTimer: NodeJS.Timeout | undefined;
  private readonly endWaiters: ((code: number) => void)[] = [];

  constructor(
    readonly spec: SessionSpec,
    private readonly proc: ProcessHandle,
    private readonly onEnded: (session: Session) => void,
  ) {
    this.cols = spec.cols;
    this.rows = spec.rows;
    proc.onOutput((stream, data) => this.output(stream, data));
    proc.onExit((code) => this.exited(code));
  }

  get id(): string {
    return this.spec.id;
  }

  get pid(): number {
    return this.proc.pid;
  }

  summary(): SessionSummary {
    const seconds = Math.max(1, (Date.now() - this.created.getTime()) / 1000);
    return {
      id: this.id,
      command: this.spec.command,
      workdir: this.spec.workdir,
      created: this.created.toISOString(),
      bytes_per_second: Math.round(this.bytesOut / seconds),
      is_active: this.exitCode === null,
      last_activity: this.lastActivity.toISOString(),
      tty: this.spec.tty,
    };
  }

  /** Adds a client: session_info first, then the scrollback, then live output. */
  attach(ws: WebSocket, owner: boolean): void {
    if (this.orphanTimer) clearTimeout(this.orphanTimer);
    this.orphanTimer = undefined;
    const info: SessionInfoMessage & { cols: number; rows: number } = {
      type: 'session_info',
      session_id: this.id,
      command: this.spec.command,
      created: Math.floor(this.created.getTime() / 1000),
      tty: this.spec.tty,
      is_owner: owner,
      cols: this.cols,
      rows: this.rows,
    };
    ws.send(JSON.stringify(info));
    if (this.spec.tty) {
      const replay = this.scrollback.contents();
      for (let o = 0; o < replay.length; o += MAX_FRAME) ws.send(replay.subarray(o, o + MAX_FRAME), { binary: true });
    } else {
      for (const f of this.frames) ws.send(f, { binary: true });
    }
    this.attachers.add(ws);
    if (owner) this.owner = ws;
    ws.on('message', (data: Buffer, isBinary: boolean) => this.input(data, isBinary));
    ws.on('close', () => this.detach(ws));
    ws.on('error', () => this.detach(ws));
  }

  signal(signal: number): void {
    this.proc.signal(signal);
  }

  /** Resolves with the exit code once the command has ended. */
  whenEnded(): Promise<number> {
    if (this.exitCode !== null) return Promise.resolve(this.exitCode);
    return new Promise((r) => this.endWaiters.push(r));
  }

  private detach(ws: WebSocket): void {
    if (!this.attachers.delete(ws)) return;
    if (ws === this.owner) {
      // Without its owner the command runs on into the bounded scrollback.
      this.owner = null;
      this.resumeIfDrained();
    }
    if (this.attachers.size > 0 || this.exitCode !== null) return;
    const grace = this.spec.maxRunAfterDisconnectMs;
    if (grace === Number.POSITIVE_INFINITY) return;
    this.orphanTimer = setTimeout(() => this.proc.signal(9), grace);
  }

  private input(data: Buffer, isBinary: boolean): void {
    this.lastActivity = new Date();
    if (!isBinary) {
      let msg: ClientControlMessage;
      try {
        msg = JSON.parse(data.toString('utf8')) as ClientControlMessage;
      } catch {
        return;
      }
      if (msg.type === 'resize' && this.spec.tty) {
        this.cols = msg.cols && msg.cols > 0 ? Math.min(msg.cols, 10_000) : this.cols;
        this.rows = msg.rows && msg.rows > 0 ? Math.min(msg.rows, 10_000) : this.rows;
        this.proc.resize(this.cols, this.rows);
      } else if (msg.type === 'signal' && typeof msg.signal === 'string') {
        const n = signalNumber(msg.signal);
        if (n !== null) this.proc.signal(n);
      }
      return;
    }
    if (this.spec.tty) {
      if (data.length > 0) this.proc.write(data);
      return;
    }
    if (data.length === 0) return;
    if (data[0] === StreamId.Stdin) {
      if (data.length > 1) this.proc.write(data.subarray(1));
    } else if (data[0] === StreamId.StdinEof && data.length === 1) {
      this.proc.endInput();
    }
  }

  private output(stream: 1 | 2, data: Buffer): void {
    this.bytesOut += data.length;
    this.lastActivity = new Date();
    for (let o = 0; o < data.length; o += MAX_FRAME) {
      const chunk = data.subarray(o, o + MAX_FRAME);
      let frame: Buffer;
      if (this.spec.tty) {
        frame = chunk;
        this.scrollback.push(chunk);
      } else {
        frame = Buffer.allocUnsafe(chunk.length + 1);
        frame[0] = stream;
        chunk.copy(frame, 1);
        this.frames.push(frame);
        this.framesBytes += frame.length;
        while (this.framesBytes > SCROLLBACK_BYTES && this.frames.length > 0)
          this.framesBytes -= this.frames.shift()!.length;
      }
      for (const ws of this.attachers) this.send(ws, frame);
    }
    if (!this.paused && this.owner && this.owner.bufferedAmount > OWNER_HIGH_WATER) {
      this.paused = true;
      this.proc.pause();
    }
  }

  /**
   * Output to one attacher. The owner's sends resume the command once its queue has
   * drained (the callback runs when the frame reached the socket); any other attacher
   * that falls too far behind is dropped, so it can neither stall the owner nor fill memory.
   */
  private send(ws: WebSocket, frame: Buffer): void {
    if (ws.readyState !== ws.OPEN) return;
    if (ws === this.owner) {
      ws.send(frame, { binary: true }, () => this.resumeIfDrained());
      return;
    }
    if (ws.bufferedAmount + frame.length > ATTACHER_MAX_BUFFERED) {
      this.drop(ws);
      return;
    }
    ws.send(frame, { binary: true });
  }

  private drop(ws: WebSocket): void {
    this.detach(ws);
    ws.close(SLOW_CONSUMER_CLOSE, SLOW_CONSUMER_REASON);
    // The close frame waits behind the unread output; do not wait for it long.
    setTimeout(() => ws.terminate(), DROP_GRACE_MS).unref();
  }

  private resumeIfDrained(): void {
    if (!this.paused) return;
    if (this.owner && this.owner.readyState === this.owner.OPEN && this.owner.bufferedAmount > OWNER_LOW_WATER) return;
    this.paused = false;
    this.proc.resume();
  }

  private exited(code: number): void {
    this.exitCode = code;
    if (this.orphanTimer) clearTimeout(this.orphanTimer);
    for (const ws of this.attachers) {
      if (ws.readyState !== ws.OPEN) continue;
      if (this.spec.tty) ws.send(JSON.stringify({ type: 'exit', exit_code: code }));
      else ws.send(Buffer.from([StreamId.Exit, code & 0xff]), { binary: true });
      ws.close(1000);
    }
    this.attachers.clear();
    this.owner = null;
    this.onEnded(this);
    for (const w of this.endWaiters.splice(0)) w(code);
  }
}
