/**
 * Durations in query parameters (`timeout=10s`, `duration=1m30s`, `max_run_after_disconnect`)
 * are Go duration strings, as the official clients send them; a bare number is seconds.
 */
const UNIT_MS: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Milliseconds of a Go duration such as "10s", "1m30s", "500ms" or a bare number of seconds; null if it is none. */
export function parseDuration(text: string): number | null {
  if (/^\d+(\.\d+)?$/.test(text)) return Number(text) * 1000;
  const re = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/gy;
  let total = 0;
  let matched = 0;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    total += Number(m[1]) * (UNIT_MS[m[2] ?? 's'] ?? 0);
    matched = re.lastIndex;
  }
  return matched === text.length && text.length > 0 ? total : null;
}
