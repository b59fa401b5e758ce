import type { Cmd } from '@sprites/sdk';

/** Ctrl-\ : detaches from a console or an attached session, leaving it running. */
export const DETACH_BYTE = 0x1c;

/** TERM, COLORTERM, LANG and LC_ALL of the local terminal, for a remote one. */
export function terminalEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const key of ['TERM', 'COLORTERM', 'LANG', 'LC_ALL']) {
    const v = process.env[key];
    if (v) env[key] = v;
  }
  return env;
}

export function terminalSize(): { rows: number; cols: number } {
  return { rows: process.stdout.rows || 24, cols: process.stdout.columns || 80 };
}

export interface InteractiveResult {
  /** The remote exit code; null when detached. */
  code: number | null;
  detached: boolean;
}

/**
 * Connects the local terminal to a remote TTY command: raw keystrokes go out, output comes
 * back, window size changes follow, and (with `detachable`) Ctrl-\ leaves it running.
 * The terminal is restored whatever happens.
 */
export async function interactive(cmd: Cmd, opts: { detachable: boolean }): Promise<InteractiveResult> {
  const stdin = process.stdin;
  const raw = stdin.isTTY;
  let detached = false;
  const onData = (data: Buffer) => {
    if (opts.detachable && data.includes(DETACH_BYTE)) {
      const before = data.subarray(0, data.indexOf(DETACH_BYTE));
      if (before.length > 0) cmd.stdin.write(before);
      detached = true;
      cmd.disconnect();
      return;
    }
    cmd.stdin.write(data);
  };
  const onResize = () => {
    const { rows, cols } = terminalSize();
    cmd.setTTYSize(rows, cols);
  };
  cmd.stdout.pipe(process.stdout, { end: false });
  if (raw) stdin.setRawMode(true);
  stdin.on('data', onData);
  stdin.resume();
  process.stdout.on('resize', onResize);
  try {
    if (cmd.exitCode() === -1)
      await cmd.start().catch((e: unknown) => {
        if (!(e instanceof Error && /already started/.test(e.message))) throw e;
      });
    onResize();
    const code = await cmd.wait().catch((e: unknown) => {
      if (detached) return null;
      throw e;
    });
    return { code, detached };
  } finally {
    process.stdout.off('resize', onResize);
    stdin.off('data', onData);
    if (raw) stdin.setRawMode(false);
    stdin.pause();
  }
}
