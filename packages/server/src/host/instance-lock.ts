import { createHash } from 'node:crypto';
import { realpathSync } from 'node:fs';
import { createServer, type Server } from 'node:net';

/**
 * One daemon per instance id and per data dir on a host. Two daemons sharing either would
 * reclaim each other's sprites at startup (each takes the other's netns, containers and
 * claims for its own leftovers). The lock is an abstract unix socket: the kernel keeps its
 * name unique and frees it when the process dies however it dies, so a crash never leaves a
 * stale lock behind and no file needs cleaning up.
 */
export async function holdInstanceLock(instanceId: string, dataDir: string): Promise<() => void> {
  const dir = realpathSync(dataDir);
  const servers: Server[] = [];
  const release = () => {
    for (const s of servers) s.close();
  };
  const locks: [string, string][] = [
    [`sprites-instance-${instanceId}`, `instance id "${instanceId}"`],
    [`sprites-datadir-${createHash('sha256').update(dir).digest('hex').slice(0, 32)}`, `data dir ${dir}`],
  ];
  for (const [name, what] of locks) {
    const server = createServer();
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(`\0${name}`, resolve);
      });
    } catch (e) {
      release();
      if ((e as NodeJS.ErrnoException).code === 'EADDRINUSE') {
        throw new Error(
          `another spritesd on this host already runs with ${what}: stop it first, or give this one its own --instance and --data-dir`,
          { cause: e },
        );
      }
      throw e;
    }
    // Nobody connects; the socket only holds the name while the daemon lives.
    server.on('connection', (socket) => socket.destroy());
    server.unref();
    servers.push(server);
  }
  return release;
}
