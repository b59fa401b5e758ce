import { writeSync } from 'node:fs';

/**
 * Named points where a test makes the daemon die as abruptly as a power cut or the OOM
 * killer would: SIGKILL to itself, nothing flushed, nothing unwound. Enabled only by the
 * environment, for crash tests (test/e2e/crash.test.ts):
 *
 *   SPRITES_CRASH_AT=create.registered          die the first time that point is passed
 *   SPRITES_CRASH_AT=checkpoint.snapshot@3      die the third time
 *
 * Unset (always, in production) a pass costs one Map lookup on an empty map.
 */
const armed = parseCrashSpec(process.env.SPRITES_CRASH_AT ?? '');
const passes = new Map<string, number>();

export function parseCrashSpec(spec: string): Map<string, number> {
  const points = new Map<string, number>();
  for (const item of spec
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const [name = '', nth = '1'] = item.split('@');
    const n = Number(nth);
    if (!/^[a-z-]+\.[a-z-]+$/.test(name) || !Number.isInteger(n) || n < 1)
      throw new Error(`SPRITES_CRASH_AT: "${item}" is not <room>.<point>[@n]`);
    points.set(name, n);
  }
  return points;
}

export function crashPoint(name: string): void {
  const nth = armed.get(name);
  if (nth === undefined) return;
  const count = (passes.get(name) ?? 0) + 1;
  passes.set(name, count);
  if (count < nth) return;
  writeSync(
    2,
    `{"level":60,"event":"crash.point","point":"${name}","msg":"dying here on purpose (SPRITES_CRASH_AT)"}\n`,
  );
  process.kill(process.pid, 'SIGKILL');
}
