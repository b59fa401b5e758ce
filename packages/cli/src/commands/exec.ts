import { createReadStream, statSync } from 'node:fs';
import { ExecError, type Cmd, type ProxySession, type Sprite } from '@sprites/sdk';
import { flag, list, str, UsageError } from '../args.js';
import type { Command } from '../command.js';
import { note } from '../output.js';
import { spriteOf } from '../target.js';
import { interactive, terminalEnv, terminalSize } from '../terminal.js';

/** `--env A=1,B=2 --env C=3` → { A: '1', B: '2', C: '3' }. */
export function parseEnv(values: string[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const value of values) {
    for (const pair of value.split(',')) {
      if (pair === '') continue;
      const eq = pair.indexOf('=');
      if (eq <= 0) throw new UsageError(`--env wants KEY=VALUE pairs, got "${pair}"`);
      env[pair.slice(0, eq)] = pair.slice(eq + 1);
    }
  }
  return env;
}

/** Uploads each `--file local:remote` before the command runs (relative remote paths: the command's dir). */
async function uploadFiles(sprite: Sprite, specs: string[], dir: string): Promise<void> {
  for (const spec of specs) {
    const colon = spec.lastIndexOf(':');
    if (colon <= 0 || colon === spec.length - 1) throw new UsageError(`--file wants LOCAL:REMOTE, got "${spec}"`);
    const local = spec.slice(0, colon);
    const remote = spec.slice(colon + 1);
    let mode: number;
    try {
      mode = statSync(local).mode & 0o777;
    } catch {
      throw new UsageError(`--file: cannot read ${local}`);
    }
    await sprite.filesystem(dir).writeFile(remote, createReadStream(local), { mode });
  }
}

/**
 * Ports a command opens in the sprite become the same ports on this machine (when free),
 * for as long as the command runs, as the hosted CLI does.
 */
class PortForwards {
  private readonly sessions = new Map<number, Promise<ProxySession | null>>();

  constructor(private readonly sprite: Sprite) {}

  follow(cmd: Cmd): void {
    cmd.on('port', (e) => {
      if (e.type !== 'port_opened' || this.sessions.has(e.port)) return;
      const host = e.address === '::' || e.address === '0.0.0.0' || e.address === '' ? 'localhost' : e.address;
      this.sessions.set(
        e.port,
        this.sprite.proxyPort(e.port, e.port, host).then(
          (s) => {
            process.stderr.write(
              `sprite: forwarding ${s.localAddr()} → port ${e.port} in ${this.sprite.name} (--no-port-forward turns this off)\n`,
            );
            return s;
          },
          () => null,
        ),
      );
    });
  }

  async close(): Promise<void> {
    for (const s of await Promise.all(this.sessions.values())) await s?.close();
  }
}

/** Writes what is buffered to stdout/stderr before the process exits. */
function flushed(stream: NodeJS.WriteStream): Promise<void> {
  return new Promise((resolve) => stream.write('', () => resolve()));
}

/** `--http-post`: output streams as it arrives; the exit status is the command's. */
async function execOverHttp(
  sprite: Sprite,
  file: string,
  args: string[],
  opts: { dir?: string; env: Record<string, string> },
): Promise<number> {
  const result = await sprite
    .execFileHTTP(file, args, {
      dir: opts.dir,
      env: opts.env,
      input: process.stdin.isTTY ? undefined : process.stdin,
      maxBuffer: Number.MAX_SAFE_INTEGER,
      onOutput: (stream, chunk) => (stream === 'stdout' ? process.stdout : process.stderr).write(chunk),
    })
    .catch((e: unknown) => {
      if (e instanceof ExecError) return e.result;
      throw e;
    });
  await Promise.all([flushed(process.stdout), flushed(process.stderr)]);
  return result.exitCode;
}

const exec: Command = {
  name: 'exec',
  aliases: ['x'],
  summary: "Run a command in a sprite; its stdio and exit code are the command's",
  usage: 'exec [--dir D] [--tty] [--env K=V,...] [--file LOCAL:REMOTE]... [--] COMMAND [ARGS...]',
  stopAtPositional: true,
  options: [
    { name: 'dir', value: true, placeholder: 'DIR', help: 'working directory (default /home/sprite)' },
    { name: 'tty', short: 't', help: 'run on a terminal (the default when this one is a terminal)' },
    { name: 'no-tty', short: 'T', help: 'never allocate a terminal' },
    { name: 'env', short: 'e', value: true, multiple: true, placeholder: 'K=V,...', help: 'environment variables' },
    { name: 'file', value: true, multiple: true, placeholder: 'LOCAL:REMOTE', help: 'upload a file before running' },
    { name: 'http-post', help: 'one HTTP request instead of a WebSocket (no TTY; stdin is read whole first)' },
    { name: 'no-port-forward', help: 'do not forward ports the command opens to this machine' },
  ],
  examples: [
    'sprite exec -s demo -- uname -a',
    'echo hi | sprite x -- cat',
    "sprite exec --dir /tmp --env A=1,B=2 -- sh -c 'echo $A$B; pwd'",
    'sprite exec --file ./script.sh:/home/sprite/script.sh -- bash script.sh',
  ],
  async run(p) {
    const argv = p.rest;
    if (argv.length === 0) throw new UsageError('what should run? sprite exec [options] -- COMMAND [ARGS...]');
    const { sprite } = spriteOf(p);
    const dir = str(p, 'dir');
    const env = parseEnv(list(p, 'env'));
    await uploadFiles(sprite, list(p, 'file'), dir ?? '/home/sprite');
    const [file, ...args] = argv as [string, ...string[]];
    if (flag(p, 'http-post')) return execOverHttp(sprite, file, args, { dir, env });
    const local = process.stdin.isTTY && process.stdout.isTTY;
    const tty = !flag(p, 'no-tty') && (flag(p, 'tty') || local);
    const forwards = flag(p, 'no-port-forward') ? null : new PortForwards(sprite);
    if (tty) {
      const cmd = sprite.command(file, args, {
        tty: true,
        ...terminalSize(),
        dir,
        env: { ...terminalEnv(), ...env },
        stdin: 'pipe',
      });
      forwards?.follow(cmd);
      try {
        const result = await interactive(cmd, { detachable: false });
        return result.code ?? 0;
      } finally {
        await forwards?.close();
      }
    }
    // Piped stdin goes to the command; a terminal's stdin is not read (nothing would end it).
    const cmd = sprite.command(file, args, { dir, env, stdin: process.stdin.isTTY ? 'ignore' : process.stdin });
    forwards?.follow(cmd);
    cmd.stdout.pipe(process.stdout, { end: false });
    cmd.stderr.pipe(process.stderr, { end: false });
    let interrupts = 0;
    const onSigint = () => {
      interrupts += 1;
      if (interrupts === 1) cmd.signal('INT');
      else {
        note('\nsprite: interrupted again; leaving the command');
        process.exit(130);
      }
    };
    process.on('SIGINT', onSigint);
    try {
      await cmd.start();
      const code = await cmd.wait();
      await Promise.all([
        new Promise((r) => (cmd.stdout.readableEnded ? r(null) : cmd.stdout.once('end', r))),
        new Promise((r) => (cmd.stderr.readableEnded ? r(null) : cmd.stderr.once('end', r))),
      ]);
      await Promise.all([flushed(process.stdout), flushed(process.stderr)]);
      return code;
    } finally {
      process.off('SIGINT', onSigint);
      process.stdin.pause();
      await forwards?.close();
    }
  },
};

export const execCommands: Command[] = [exec];
