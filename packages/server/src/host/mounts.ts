import { readFile } from 'node:fs/promises';
import { run } from './run.js';

/** Mount points at or below `prefix` in this mount namespace, deepest first. */
export async function mountsUnder(prefix: string): Promise<string[]> {
  const text = await readFile('/proc/self/mounts', 'utf8');
  const targets = text
    .split('\n')
    .map((line) => line.split(' ')[1] ?? '')
    .map((t) => t.replace(/\\040/g, ' '))
    .filter((t) => t === prefix || t.startsWith(`${prefix}/`));
  return [...new Set(targets)].sort((a, b) => b.length - a.length);
}

export async function isMountPoint(path: string): Promise<boolean> {
  return (await mountsUnder(path)).includes(path);
}

/** Unmounts `path` if mounted; falls back to a lazy detach when it is busy. */
export async function unmount(path: string): Promise<void> {
  if (!(await isMountPoint(path))) return;
  try {
    await run('umount', [path]);
  } catch {
    await run('umount', ['--lazy', path]);
  }
}

/** Unmounts every mount at or below `path`, deepest first. */
export async function unmountAll(path: string): Promise<void> {
  for (const target of await mountsUnder(path)) await unmount(target);
}
