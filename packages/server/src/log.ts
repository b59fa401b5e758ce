import pino, { type Logger } from 'pino';

export type { Logger };

/**
 * The daemon's logger: JSON lines on stdout, written synchronously so that nothing logged
 * before a crash, a kill or process.exit() is lost. Secrets are never logged (see redact).
 */
export function createLogger(level: string): Logger {
  return pino(
    {
      level,
      base: { svc: 'spritesd' },
      redact: { paths: ['req.headers.authorization', 'token', 'environment'], censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    pino.destination({ dest: 1, sync: true }),
  );
}

/**
 * What of a request URL may be logged: its path, never its query (exec commands and
 * environment travel there), cut to a sane length.
 */
export function loggablePath(url: string | undefined): string {
  return (url ?? '/').split('?')[0]!.slice(0, 300);
}
