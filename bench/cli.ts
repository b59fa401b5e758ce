import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { SpritesClient } from '@sprites/sdk';
import type { TestDaemon } from '../test/helpers/daemon.js';
import { summarize, timed, type Summary } from './stats.js';

export interface CliResult {
  /** `sprite exec -- true`, process start to exit, credentials found on the host. */
  cliExec: Summary;
  /** The SDK's own round trip (`execFile('true')`) in the same run. */
  sdkExec: Summary;
  /** `node -e 0`: what any Node CLI pays before its first line runs. */
  nodeStart: Summary;
}

function run(argv: string[], env: NodeJS.ProcessEnv): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, argv, { env, stdio: ['ignore', 'ignore', 'inherit'] });
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${argv.join(' ')} exited ${code}`))));
  });
}

/** CLI start-up cost: `sprite exec -- true` next to the SDK round trip and a bare Node start. */
export async function measureCli(d: TestDaemon, runs: number): Promise<CliResult> {
  await d.createSprite('bench-cli', { ram_mb: 256, storage_gb: 1 });
  try {
    const cli = join(process.cwd(), 'packages', 'cli', 'dist', 'sprite.cjs');
    const env = { PATH: process.env.PATH, HOME: '/nonexistent', SPRITES_DATA_DIR: d.dataDir };
    const sprite = new SpritesClient(d.adminToken, { baseURL: d.url }).sprite('bench-cli');
    for (let i = 0; i < 3; i++) await run([cli, 'exec', '-s', 'bench-cli', '--', 'true'], env);
    const cliExec: number[] = [];
    const sdkExec: number[] = [];
    const nodeStart: number[] = [];
    for (let i = 0; i < runs; i++) {
      cliExec.push((await timed(() => run([cli, 'exec', '-s', 'bench-cli', '--', 'true'], env))).ms);
      sdkExec.push((await timed(() => sprite.execFile('true'))).ms);
      nodeStart.push((await timed(() => run(['-e', '0'], env))).ms);
    }
    return { cliExec: summarize(cliExec), sdkExec: summarize(sdkExec), nodeStart: summarize(nodeStart) };
  } finally {
    await d.api('DELETE', '/v1/sprites/bench-cli');
  }
}
