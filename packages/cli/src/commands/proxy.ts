import { flag, str, UsageError } from '../args.js';
import type { Command } from '../command.js';
import { io, note } from '../output.js';
import { spriteOf } from '../target.js';

/** `5432`, `15432:5432` or `15432:db.internal:5432` → a local port and a target in the sprite. */
export function parseForward(spec: string): { localPort: number; remoteHost: string; remotePort: number } {
  const parts = spec.split(':');
  const num = (v: string | undefined) => {
    const n = Number(v);
    if (!v || !Number.isInteger(n) || n < 0 || n > 65535)
      throw new UsageError(`"${spec}" is not PORT, LOCAL:REMOTE or LOCAL:HOST:REMOTE`);
    return n;
  };
  if (parts.length === 1) return { localPort: num(parts[0]), remoteHost: 'localhost', remotePort: num(parts[0]) };
  if (parts.length === 2) return { localPort: num(parts[0]), remoteHost: 'localhost', remotePort: num(parts[1]) };
  if (parts.length === 3)
    return { localPort: num(parts[0]), remoteHost: parts[1] || 'localhost', remotePort: num(parts[2]) };
  throw new UsageError(`"${spec}" is not PORT, LOCAL:REMOTE or LOCAL:HOST:REMOTE`);
}

const proxy: Command = {
  name: 'proxy',
  summary: 'Forward local ports to ports in a sprite (or stdio with -W), until Ctrl-C',
  usage: 'proxy [-W [HOST:]PORT] [LOCAL:]REMOTE... ',
  options: [
    {
      name: 'stdio',
      short: 'W',
      value: true,
      placeholder: 'HOST:PORT',
      help: 'connect stdin/stdout to HOST:PORT in the sprite (ssh ProxyCommand)',
    },
  ],
  examples: [
    'sprite proxy 5432 -s db',
    'sprite proxy 16379:6379 8080',
    'ssh -o ProxyCommand="sprite proxy -s box -W localhost:22" user@box',
  ],
  async run(p) {
    const { sprite } = spriteOf(p);
    const stdio = str(p, 'stdio');
    if (stdio) {
      const target = /^\d+$/.test(stdio) ? `localhost:${stdio}` : stdio;
      const socket = await sprite.proxySocket(target);
      process.stdin.pipe(socket);
      socket.pipe(process.stdout);
      await new Promise<void>((resolve, reject) => {
        socket.once('close', () => resolve());
        socket.once('error', reject);
      });
      return 0;
    }
    if (p.positionals.length === 0) throw new UsageError('which ports? sprite proxy 5432 or sprite proxy LOCAL:REMOTE');
    const sessions = await sprite.proxyPorts(p.positionals.map(parseForward));
    for (const s of sessions) note(`Forwarding ${s.localAddr()} → ${s.remoteHost}:${s.remotePort} in ${sprite.name}`);
    if (flag(p, 'json'))
      io.stdout.write(
        `${JSON.stringify(sessions.map((s) => ({ local: s.localAddr(), remote: `${s.remoteHost}:${s.remotePort}` })))}\n`,
      );
    await new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
    await Promise.all(sessions.map((s) => s.close()));
    return 0;
  },
};

export const proxyCommands: Command[] = [proxy];
