import { parseDuration } from '@sprites/protocol';

/** The query parameters of an exec request (PROTOCOL.md §5.1), parsed and checked. */
export interface ExecParams {
  argv: string[];
  env: Record<string, string>;
  dir: string | null;
  tty: boolean;
  stdin: boolean;
  rows: number;
  cols: number;
  /** Non-TTY commands survive a disconnect this long (ms) before they are killed. */
  maxRunAfterDisconnectMs: number;
}

export class ExecParamError extends Error {}

const DEFAULT_NON_TTY_GRACE_MS = 10_000;

export function parseExecParams(query: URLSearchParams): ExecParams {
  const argv = query.getAll('cmd');
  if (argv.length === 0 || argv[0] === '')
    throw new ExecParamError('cmd is required: pass the command and its arguments as repeated cmd= parameters');
  if (argv.some((a) => a.includes('\0'))) throw new ExecParamError('cmd must not contain NUL bytes');
  const env: Record<string, string> = {};
  for (const entry of query.getAll('env')) {
    const eq = entry.indexOf('=');
    if (eq <= 0) throw new ExecParamError(`env entry "${entry.slice(0, 64)}" must look like KEY=VALUE`);
    if (entry.includes('\0')) throw new ExecParamError('env must not contain NUL bytes');
    env[entry.slice(0, eq)] = entry.slice(eq + 1);
  }
  const tty = query.get('tty') === 'true';
  const dimension = (name: string, fallback: number) => {
    const raw = query.get(name);
    if (raw === null || raw === '') return fallback;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 1 || n > 10_000)
      throw new ExecParamError(`${name} must be an integer from 1 to 10000`);
    return n;
  };
  const grace = query.get('max_run_after_disconnect');
  let maxRunAfterDisconnectMs = tty ? Number.POSITIVE_INFINITY : DEFAULT_NON_TTY_GRACE_MS;
  if (grace !== null && grace !== '') {
    const ms = parseDuration(grace);
    if (ms === null) throw new ExecParamError('max_run_after_disconnect must be a duration such as 30s or 5m');
    maxRunAfterDisconnectMs = ms;
  }
  return {
    argv,
    env,
    dir: query.get('dir') || null,
    tty,
    stdin: query.get('stdin') !== 'false',
    rows: dimension('rows', 24),
    cols: dimension('cols', 80),
    maxRunAfterDisconnectMs,
  };
}
