import type { IncomingMessage } from 'node:http';
import type { WebSocket } from 'ws';
import { ExecParamError, parseExecParams } from './params.js';
import { runNonTty } from './run.js';

export { ExecParamError, parseExecParams, parseDuration } from './params.js';
export { commandEnvironment, resolveCommand, SPRITE_USER } from './environment.js';

/** Returns an error message for a bad request, or null when the upgrade may proceed. */
export function checkExecRequest(url: URL): string | null {
  try {
    const params = parseExecParams(url.searchParams);
    if (params.tty) return 'tty=true is not supported by this server yet; run the command without a TTY';
    return null;
  } catch (e) {
    if (e instanceof ExecParamError) return e.message;
    throw e;
  }
}

export function handleExec(ws: WebSocket, request: IncomingMessage, spriteEnv: Record<string, string>): void {
  const url = new URL(request.url ?? '/', 'http://agent');
  runNonTty(ws, parseExecParams(url.searchParams), spriteEnv);
}
