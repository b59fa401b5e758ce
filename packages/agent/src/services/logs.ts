import { closeSync, existsSync, mkdirSync, openSync, readSync, renameSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';

/** A log file is rotated (to `.1`, one generation kept) when it passes this size. */
export const LOG_ROTATE_BYTES = 10 * 1024 * 1024;

/**
 * /.sprite/logs/services/<name>.log: one line per output line, `<RFC 3339> [stdout] text`
 * or `[stderr]`, plus `[service]` lines for starts and exits. Partial lines wait for their
 * end (or for the process to exit).
 */
export class ServiceLog {
  readonly path: string;
  private partial: Record<'stdout' | 'stderr', string> = { stdout: '', stderr: '' };
  private size = 0;

  constructor(dir: string, name: string) {
    mkdirSync(dir, { recursive: true, mode: 0o755 });
    this.path = join(dir, `${name}.log`);
    this.size = existsSync(this.path) ? statSync(this.path).size : 0;
  }

  /** Output of the process; returns the complete lines it made. */
  output(stream: 'stdout' | 'stderr', data: Buffer): string[] {
    const text = this.partial[stream] + data.toString('utf8');
    const lines = text.split('\n');
    this.partial[stream] = lines.pop() ?? '';
    for (const line of lines) this.append(`[${stream}] ${line}`);
    return lines;
  }

  /** Writes out what is left of unfinished lines (the process exited). */
  flush(): void {
    for (const stream of ['stdout', 'stderr'] as const) {
      if (this.partial[stream] !== '') this.append(`[${stream}] ${this.partial[stream]}`);
      this.partial[stream] = '';
    }
  }

  note(text: string): void {
    this.append(`[service] ${text}`);
  }

  private append(line: string): void {
    const bytes = Buffer.from(`${new Date().toISOString()} ${line}\n`);
    if (this.size + bytes.length > LOG_ROTATE_BYTES) {
      try {
        renameSync(this.path, `${this.path}.1`);
      } catch {
        // nothing to rotate
      }
      this.size = 0;
    }
    const fd = openSync(this.path, 'a', 0o644);
    try {
      writeSync(fd, bytes);
    } finally {
      closeSync(fd);
    }
    this.size += bytes.length;
  }
}

/** The last `n` lines of a log file (reads at most the last 4 MiB). */
export function tailLines(path: string, n: number): string[] {
  if (!existsSync(path)) return [];
  const size = statSync(path).size;
  const length = Math.min(size, 4 * 1024 * 1024);
  const buf = Buffer.alloc(length);
  const fd = openSync(path, 'r');
  try {
    readSync(fd, buf, 0, length, size - length);
  } finally {
    closeSync(fd);
  }
  const lines = buf.toString('utf8').split('\n');
  if (lines.at(-1) === '') lines.pop();
  return n > 0 ? lines.slice(-n) : [];
}
