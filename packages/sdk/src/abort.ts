import { AbortError } from './errors.js';

/** Per-call cancellation shared by every request and stream. */
export interface CallOptions {
  /** Cancels the call; a running command is killed, a stream closed, a socket released. */
  signal?: AbortSignal;
  /** Milliseconds before the call is aborted; 0 means never. */
  timeout?: number;
}

/** One AbortSignal that fires on the caller's signal or after `timeoutMs`, with a clear reason. */
export class Deadline {
  readonly signal: AbortSignal;
  private readonly controller = new AbortController();
  private timer: ReturnType<typeof setTimeout> | undefined;
  private readonly unlink: () => void;

  constructor(what: string, options: CallOptions = {}, defaultTimeout = 0) {
    this.signal = this.controller.signal;
    const timeout = options.timeout ?? defaultTimeout;
    const user = options.signal;
    const onUserAbort = () =>
      this.abort(user?.reason instanceof Error ? user.reason : new AbortError(`${what} was aborted`));
    this.unlink = () => user?.removeEventListener('abort', onUserAbort);
    if (user?.aborted) onUserAbort();
    else user?.addEventListener('abort', onUserAbort, { once: true });
    if (timeout > 0 && !this.signal.aborted) {
      this.timer = setTimeout(() => this.abort(new AbortError(`${what} timed out after ${timeout} ms`)), timeout);
    }
  }

  get aborted(): boolean {
    return this.signal.aborted;
  }

  /** Why the call was aborted, as an Error to throw. */
  get reason(): Error {
    const r: unknown = this.signal.reason;
    return r instanceof Error ? r : new AbortError();
  }

  abort(reason: Error): void {
    if (!this.controller.signal.aborted) this.controller.abort(reason);
    this.dispose();
  }

  /** Stops the timer and forgets the caller's signal (call once the work is done). */
  dispose(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.unlink();
  }

  /** Rejects when aborted; never resolves otherwise. */
  whenAborted(): Promise<never> {
    return new Promise((_, reject) => {
      if (this.signal.aborted) return reject(this.reason);
      this.signal.addEventListener('abort', () => reject(this.reason), { once: true });
    });
  }
}
