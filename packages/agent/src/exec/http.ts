import type { IncomingMessage, ServerResponse } from 'node:http';
import { StreamId } from '@sprites/protocol';
import { spawnPipes } from '../sessions/index.js';
import { commandEnvironment, isExecutable, resolveCommand, SPRITE_USER } from './environment.js';
import { ExecParamError, parseExecParams } from './params.js';

/**
 * A chunk of the answer: the stream byte and the data. With `framing=length` (our
 * extension) a 4-byte big-endian length follows the stream byte, so a client can split the
 * stream however the network merged or cut it; the official format has no length.
 */
function chunker(lengths: boolean): (stream: number, data: Buffer) => Buffer {
  if (!lengths) return (stream, data) => Buffer.concat([Buffer.from([stream]), data]);
  return (stream, data) => {
    const head = Buffer.alloc(5);
    head[0] = stream;
    head.writeUInt32BE(data.length, 1);
    return Buffer.concat([head, data]);
  };
}

/**
 * HTTP exec (PLATFORM §1.3): POST .../exec?cmd=…; the request body is stdin, the response
 * streams chunks that each start with a stream byte (1 stdout, 2 stderr) and ends with
 * [3, exit code]. No TTY. The command is killed if the client goes away, and paused while
 * the client does not read.
 */
export function httpExec(
  req: IncomingMessage,
  res: ServerResponse,
  query: URLSearchParams,
  spriteEnv: Record<string, string>,
): void {
  const fail = (status: number, message: string) => {
    const text = JSON.stringify({ error: 'bad_request', message });
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  };
  let params;
  try {
    params = parseExecParams(query);
  } catch (e) {
    if (e instanceof ExecParamError) return fail(400, e.message);
    throw e;
  }
  if (params.tty) return fail(400, 'HTTP exec has no TTY; use the WebSocket exec for tty=true');
  const framing = query.get('framing');
  if (framing !== null && framing !== 'length') return fail(400, 'framing must be "length" (or absent)');
  const chunk = chunker(framing === 'length');
  const env = commandEnvironment(spriteEnv, params.env);
  const cwd = params.dir ?? SPRITE_USER.home;
  const file = resolveCommand(params.argv[0]!, env.PATH ?? '', isExecutable);
  res.writeHead(200, { 'content-type': 'application/octet-stream' });
  if (!file) {
    res.end(
      Buffer.concat([
        chunk(StreamId.Stderr, Buffer.from(`${params.argv[0]}: command not found\n`)),
        chunk(StreamId.Exit, Buffer.from([127])),
      ]),
    );
    return;
  }
  const proc = spawnPipes({
    file,
    argv: params.argv,
    cwd,
    env,
    uid: SPRITE_USER.uid,
    gid: SPRITE_USER.gid,
    stdin: params.stdin,
    cols: 80,
    rows: 24,
  });
  // Backpressure: while the response is not drained (a slow reader), the command's output is
  // paused, so its pipes fill and its writes block instead of the agent's memory growing.
  let paused = false;
  res.on('drain', () => {
    if (!paused) return;
    paused = false;
    proc.resume();
  });
  proc.onOutput((stream, data) => {
    if (res.write(chunk(stream, data)) || paused) return;
    paused = true;
    proc.pause();
  });
  proc.onExit((code) => res.end(chunk(StreamId.Exit, Buffer.from([code & 0xff]))));
  if (params.stdin) {
    req.on('data', (d: Buffer) => proc.write(d));
    req.on('end', () => proc.endInput());
  }
  res.on('close', () => {
    if (!res.writableFinished) proc.signal(9);
  });
}
