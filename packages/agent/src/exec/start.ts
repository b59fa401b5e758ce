import { statSync } from 'node:fs';
import { StreamId } from '@sprites/protocol';
import type { WebSocket } from 'ws';
import { Session, spawnPipes, spawnPty, type SessionRegistry } from '../sessions/index.js';
import { commandEnvironment, isExecutable, resolveCommand, SPRITE_USER } from './environment.js';
import type { ExecParams } from './params.js';

/** Tells the client why its command could not start, in the framing of its mode, and closes. */
function refuse(ws: WebSocket, params: ExecParams, message: string, code: number): void {
  ws.send(
    JSON.stringify({
      type: 'session_info',
      session_id: '0',
      command: params.argv.join(' '),
      created: Math.floor(Date.now() / 1000),
      tty: params.tty,
      is_owner: true,
    }),
  );
  if (params.tty) {
    ws.send(Buffer.from(`${message}\r\n`), { binary: true });
    ws.send(JSON.stringify({ type: 'exit', exit_code: code }));
  } else {
    ws.send(Buffer.concat([Buffer.from([StreamId.Stderr]), Buffer.from(`${message}\n`)]), { binary: true });
    ws.send(Buffer.from([StreamId.Exit, code]), { binary: true });
  }
  ws.close(1000);
}

/** Starts a command as a new session owned by `ws` (PROTOCOL.md §5). */
export function startSession(
  ws: WebSocket,
  params: ExecParams,
  spriteEnv: Record<string, string>,
  registry: SessionRegistry,
): void {
  const env = commandEnvironment(spriteEnv, params.env);
  if (params.tty) env.TERM ??= 'xterm-256color';
  const cwd = params.dir ?? SPRITE_USER.home;
  const file = resolveCommand(params.argv[0]!, env.PATH ?? '', isExecutable);
  if (!file) return refuse(ws, params, `${params.argv[0]}: command not found`, 127);
  try {
    if (!statSync(cwd).isDirectory()) return refuse(ws, params, `${cwd}: not a directory`, 1);
  } catch {
    return refuse(ws, params, `${cwd}: no such directory`, 1);
  }
  const spec = {
    file,
    argv: params.argv,
    cwd,
    env,
    uid: SPRITE_USER.uid,
    gid: SPRITE_USER.gid,
    stdin: params.stdin,
    cols: params.cols,
    rows: params.rows,
  };
  let proc;
  try {
    proc = params.tty ? spawnPty(spec) : spawnPipes(spec);
  } catch (e) {
    return refuse(ws, params, `${params.argv[0]}: ${(e as Error).message}`, 126);
  }
  const session = new Session(
    {
      id: registry.nextId(),
      command: params.argv.join(' '),
      workdir: cwd,
      tty: params.tty,
      cols: params.cols,
      rows: params.rows,
      maxRunAfterDisconnectMs: params.maxRunAfterDisconnectMs,
    },
    proc,
    (s) => registry.end(s),
  );
  registry.add(session);
  session.attach(ws, true);
}
