import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, statSync } from 'node:fs';
import { constants as osConstants } from 'node:os';
import { signalExitCode, StreamId, type ClientControlMessage, type SessionInfoMessage } from '@sprites/protocol';
import type { WebSocket } from 'ws';
import { commandEnvironment, resolveCommand, SPRITE_USER } from './environment.js';
import type { ExecParams } from './params.js';

let nextSessionId = 1;

/** Output is sent in frames of at most this many bytes (PROTOCOL.md §5.8). */
const MAX_FRAME = 64 * 1024;

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

function signalNumber(name: string): number | null {
  const upper = name.toUpperCase();
  const full = upper.startsWith('SIG') ? upper : `SIG${upper}`;
  return (osConstants.signals as Record<string, number>)[full] ?? null;
}

function sendFramed(ws: WebSocket, stream: number, data: Buffer): void {
  for (let offset = 0; offset < data.length; offset += MAX_FRAME) {
    const chunk = data.subarray(offset, offset + MAX_FRAME);
    const frame = Buffer.allocUnsafe(chunk.length + 1);
    frame[0] = stream;
    chunk.copy(frame, 1);
    ws.send(frame, { binary: true });
  }
}

/**
 * Runs one non-TTY command for one WebSocket: stdout/stderr as [0x01]/[0x02] frames, stdin
 * from [0x00] frames until [0x04], then [0x03, code] after all output, then close 1000.
 */
export function runNonTty(ws: WebSocket, params: ExecParams, spriteEnv: Record<string, string>): void {
  const env = commandEnvironment(spriteEnv, params.env);
  const cwd = params.dir ?? SPRITE_USER.home;
  const resolved = resolveCommand(params.argv[0]!, env.PATH ?? '', isExecutable);
  const sessionId = String(nextSessionId++);
  const info: SessionInfoMessage = {
    type: 'session_info',
    session_id: sessionId,
    command: params.argv.join(' '),
    created: Math.floor(Date.now() / 1000),
    tty: false,
    is_owner: true,
  };
  ws.send(JSON.stringify(info));

  const fail = (message: string, code: number) => {
    sendFramed(ws, StreamId.Stderr, Buffer.from(`${message}\n`));
    ws.send(Buffer.from([StreamId.Exit, code]), { binary: true });
    ws.close(1000);
  };
  if (!resolved) return fail(`${params.argv[0]}: command not found`, 127);
  try {
    if (!statSync(cwd).isDirectory()) return fail(`${cwd}: not a directory`, 1);
  } catch {
    return fail(`${cwd}: no such directory`, 1);
  }

  let child: ChildProcess;
  try {
    child = spawn(resolved, params.argv.slice(1), {
      argv0: params.argv[0],
      cwd,
      env,
      uid: SPRITE_USER.uid,
      gid: SPRITE_USER.gid,
      stdio: [params.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'],
      detached: true,
    });
  } catch (e) {
    return fail(`${params.argv[0]}: ${(e as Error).message}`, 126);
  }

  let exited = false;
  let disconnectTimer: NodeJS.Timeout | undefined;
  const pending = { stdout: true, stderr: true };
  let exitCode: number | null = null;
  const finish = () => {
    if (exitCode === null || pending.stdout || pending.stderr) return;
    if (ws.readyState === ws.OPEN) {
      ws.send(Buffer.from([StreamId.Exit, exitCode & 0xff]), { binary: true });
      ws.close(1000);
    }
  };
  child.stdout!.on('data', (b: Buffer) => ws.readyState === ws.OPEN && sendFramed(ws, StreamId.Stdout, b));
  child.stderr!.on('data', (b: Buffer) => ws.readyState === ws.OPEN && sendFramed(ws, StreamId.Stderr, b));
  child.stdout!.on('close', () => ((pending.stdout = false), finish()));
  child.stderr!.on('close', () => ((pending.stderr = false), finish()));
  child.stdin?.on('error', () => undefined);
  child.on('error', (e) => {
    if (exitCode !== null) return;
    exited = true;
    pending.stdout = pending.stderr = false;
    fail(`${params.argv[0]}: ${e.message}`, 126);
  });
  child.on('exit', (code, signal) => {
    exited = true;
    if (disconnectTimer) clearTimeout(disconnectTimer);
    exitCode = code ?? (signal ? signalExitCode(signalNumber(signal) ?? 0) : 1);
    finish();
  });

  const killGroup = (sig: NodeJS.Signals | number) => {
    if (exited || child.pid === undefined) return;
    try {
      process.kill(-child.pid, sig);
    } catch {
      child.kill(sig);
    }
  };

  ws.on('message', (data: Buffer, isBinary: boolean) => {
    if (!isBinary) {
      let msg: ClientControlMessage;
      try {
        msg = JSON.parse(data.toString('utf8')) as ClientControlMessage;
      } catch {
        return;
      }
      if (msg.type === 'signal' && typeof msg.signal === 'string') {
        const n = signalNumber(msg.signal);
        if (n !== null) killGroup(n);
      }
      return;
    }
    if (data.length === 0) return;
    if (data[0] === StreamId.Stdin) {
      if (data.length > 1) child.stdin?.write(data.subarray(1));
    } else if (data[0] === StreamId.StdinEof && data.length === 1) {
      child.stdin?.end();
    }
  });
  ws.on('close', () => {
    child.stdin?.destroy();
    if (exited) return;
    const grace = params.maxRunAfterDisconnectMs;
    if (grace === Number.POSITIVE_INFINITY) return;
    disconnectTimer = setTimeout(() => killGroup('SIGKILL'), grace);
    disconnectTimer.unref();
  });
}
