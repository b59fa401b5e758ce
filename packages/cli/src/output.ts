/** Somewhere text goes: a process stream, or a buffer in a test. */
export interface TextSink {
  write(chunk: string | Uint8Array): unknown;
}

/**
 * Where commands print their results (stdout) and notices (stderr). The process's own
 * streams; unit tests swap in buffers. Byte streams of a remote command (exec, proxy) and
 * terminal control go to the process's streams directly.
 */
export const io: { stdout: TextSink; stderr: TextSink } = { stdout: process.stdout, stderr: process.stderr };

/** Rows as aligned columns under a header (empty cells as "-"), one line each. */
export function formatTable(headers: string[], rows: (string | number | undefined)[][]): string {
  const cells = rows.map((r) => r.map((c) => (c === undefined || c === '' ? '-' : String(c))));
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ');
  return [headers, ...cells].map((r) => `${line(r)}\n`).join('');
}

/** Prints rows as aligned columns under a header (empty cells as "-"). */
export function printTable(headers: string[], rows: (string | number | undefined)[][]): void {
  io.stdout.write(formatTable(headers, rows));
}

/** Pretty JSON on stdout (Dates as ISO strings, as JSON.stringify makes them). */
export function printJson(value: unknown): void {
  io.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** "3m ago", "2h ago", "5d ago". */
export function ago(date: Date | undefined, now = Date.now()): string {
  if (!date || date.getTime() === 0) return '-';
  const s = Math.max(0, Math.round((now - date.getTime()) / 1000));
  if (s < 60) return `${s}s ago`;
  if (s < 3600) return `${Math.floor(s / 60)}m ago`;
  if (s < 86400) return `${Math.floor(s / 3600)}h ago`;
  return `${Math.floor(s / 86400)}d ago`;
}

/** Progress and notices go to stderr, so stdout stays clean for pipes and --json. */
export function note(text: string): void {
  io.stderr.write(`${text}\n`);
}
