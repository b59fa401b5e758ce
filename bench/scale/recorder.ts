import { summarize, type Summary } from '../stats.js';

/**
 * How a request ended: its HTTP status (a WebSocket handshake's too), or what happened
 * instead of one. `stream-error` is an in-band error line of an NDJSON stream (status 200),
 * `bad-output` an answer whose content was wrong (exec output, file read back).
 */
export type Outcome = number | 'timeout' | 'network' | 'interrupted' | 'stream-error' | 'bad-output';

export interface Answer<T = undefined> {
  status: Outcome;
  ok: boolean;
  message?: string;
  value?: T;
}

export interface Timed<T> extends Answer<T> {
  ms: number;
}

interface Sample {
  kind: string;
  phase: string;
  status: Outcome;
  ok: boolean;
  ms: number;
}

export interface FailureGroup {
  kind: string;
  status: Outcome;
  count: number;
  /** The first few distinct messages. */
  messages: string[];
}

const MESSAGES_KEPT = 3;

export function isServerError(status: Outcome): boolean {
  return typeof status === 'number' && status >= 500;
}

/**
 * Every request of the run: kind (create, exec, checkpoint…), the phase of the sprite count
 * it started in, how it ended and how long it took. Never throws out of `time`: a failure is
 * a sample like any other.
 */
export class Recorder {
  private readonly samples: Sample[] = [];
  private readonly failures = new Map<string, FailureGroup>();

  constructor(private readonly interrupted: AbortSignal) {}

  async time<T>(kind: string, phase: string, fn: () => Promise<Answer<T>>): Promise<Timed<T>> {
    const t0 = process.hrtime.bigint();
    let answer: Answer<T>;
    try {
      answer = await fn();
    } catch (e) {
      answer = this.classify(e);
    }
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    this.add(kind, phase, answer, ms);
    return { ...answer, ms };
  }

  add(kind: string, phase: string, answer: Answer<unknown>, ms: number): void {
    this.samples.push({ kind, phase, status: answer.status, ok: answer.ok, ms });
    if (answer.ok) return;
    const key = `${kind}\u0000${String(answer.status)}`;
    let group = this.failures.get(key);
    if (!group) this.failures.set(key, (group = { kind, status: answer.status, count: 0, messages: [] }));
    group.count++;
    const message = (answer.message ?? '').slice(0, 300);
    if (group.messages.length < MESSAGES_KEPT && !group.messages.includes(message)) group.messages.push(message);
  }

  /** An exception from a request: its status if it carries one (exec handshakes), else what kind of failure. */
  private classify(e: unknown): Answer<never> {
    const err = e as Error & { status?: number };
    const message = err instanceof Error ? err.message : String(e);
    if (this.interrupted.aborted) return { status: 'interrupted', ok: false, message };
    // An exec handshake refused: the message holds the status and the body.
    if (typeof err.status === 'number') return { status: err.status, ok: false, message };
    if (err.name === 'TimeoutError' || err.name === 'AbortError' || /timed out/.test(message))
      return { status: 'timeout', ok: false, message };
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    return {
      status: 'network',
      ok: false,
      message: cause?.message ? `${message}: ${cause.code ?? ''} ${cause.message}` : message,
    };
  }

  failureGroups(): FailureGroup[] {
    return [...this.failures.values()].sort(
      (a, b) => a.kind.localeCompare(b.kind) || String(a.status).localeCompare(String(b.status)),
    );
  }

  /** Latency of the successful requests of `kind`, in `phase` (all phases if omitted). */
  summary(kind: string, phase?: string): Summary | undefined {
    const ms = this.samples
      .filter((s) => s.ok && s.kind === kind && (phase === undefined || s.phase === phase))
      .map((s) => s.ms);
    return ms.length > 0 ? summarize(ms) : undefined;
  }

  /** p50 of the last `n` successful requests of `kind` (for progress lines). */
  recentP50(kind: string, n: number): number | undefined {
    const ms: number[] = [];
    for (let i = this.samples.length - 1; i >= 0 && ms.length < n; i--) {
      const s = this.samples[i]!;
      if (s.ok && s.kind === kind) ms.push(s.ms);
    }
    return ms.length > 0 ? summarize(ms).p50 : undefined;
  }

  kinds(): string[] {
    return [...new Set(this.samples.map((s) => s.kind))];
  }

  count(kind?: string, ok?: boolean): number {
    return this.samples.filter((s) => (kind === undefined || s.kind === kind) && (ok === undefined || s.ok === ok))
      .length;
  }

  /** Requests by kind and status: `{ exec: { "101": 950, "timeout": 2 } }` (101 is a WebSocket that ran). */
  statusCounts(): Record<string, Record<string, number>> {
    const out: Record<string, Record<string, number>> = {};
    for (const s of this.samples) {
      const byStatus = (out[s.kind] ??= {});
      const key = `${String(s.status)}${s.ok ? '' : ' (failed)'}`;
      byStatus[key] = (byStatus[key] ?? 0) + 1;
    }
    return out;
  }

  serverErrors(): number {
    return this.samples.filter((s) => isServerError(s.status)).length;
  }

  /** Creates that failed (one cut short by Ctrl-C is not the daemon's failure). */
  failedCreates(): number {
    return this.samples.filter(
      (s) => (s.kind === 'create' || s.kind === 'recreate') && !s.ok && s.status !== 'interrupted',
    ).length;
  }
}
