import { copyFile, mkdir, readFile, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { run } from '../host/index.js';
import type { AgentMounts } from '../runtime/index.js';

/**
 * Prepares what runs the agent inside every sprite, independent of the sprite's own
 * libraries: the host's node binary with its loader and libraries copied into one directory
 * (so a user who breaks the sprite's libc keeps a working agent), a static tini, and the
 * agent bundle. All of it is bind-mounted read-only.
 */
export async function prepareAgentRuntime(dataDir: string): Promise<AgentMounts> {
  const node = process.execPath;
  const libDir = join(dataDir, 'agent-runtime', 'lib');
  await mkdir(libDir, { recursive: true, mode: 0o755 });
  const { stdout } = await run('ldd', [node]);
  let loader = '';
  for (const line of stdout.split('\n')) {
    const lib = /=>\s+(\/\S+)/.exec(line)?.[1] ?? /^\s*(\/\S+)\s+\(/.exec(line)?.[1];
    if (!lib) continue;
    const target = join(libDir, basename(lib));
    if (!(await sameSize(lib, target))) await copyFile(lib, target);
    if (/ld-linux|ld-musl/.test(basename(lib))) loader = basename(lib);
  }
  if (!loader) throw new Error(`could not find the dynamic loader of ${node} in: ${stdout}`);
  const tini = '/usr/bin/tini-static';
  await stat(tini).catch((e) => {
    throw new Error(`${tini} is missing: install Debian's tini package (scripts/setup-host.sh)`, { cause: e });
  });
  const agentDir = fileURLToPath(new URL('../../../agent/dist/bundle', import.meta.url));
  await readFile(join(agentDir, 'agent.js')).catch((e) => {
    throw new Error(`agent bundle missing in ${agentDir}: run \`npm run build\``, { cause: e });
  });
  return { tini, node, libDir, loader, agentDir };
}

async function sameSize(a: string, b: string): Promise<boolean> {
  const [sa, sb] = await Promise.all([stat(a), stat(b).catch(() => null)]);
  return sb !== null && sa.size === sb.size && sb.mtimeMs >= sa.mtimeMs;
}
