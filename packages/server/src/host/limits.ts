import { readFile } from 'node:fs/promises';

/** The daemon's own hard RLIMIT_NOFILE: a sprite's limits must stay within it. */
export async function ownHardNofile(): Promise<number> {
  const text = await readFile('/proc/self/limits', 'utf8');
  const line = text.split('\n').find((l) => l.startsWith('Max open files'));
  const hard = line?.trim().split(/\s+/)[4];
  return hard && hard !== 'unlimited' ? Number(hard) : 1 << 20;
}
