import { randomBytes } from 'node:crypto';
import { execInSprite } from '../../test/helpers/exec.js';
import type { ScaleContext } from './context.js';

/**
 * Another tenant who only runs a command now and then while the load goes on: what one
 * organization's storm of creates costs everyone else. Its exec latency is recorded as
 * `bystander-exec` by phase, and once before the load as the baseline (`quiet`).
 */
export class Bystander {
  private token = '';
  private stopped = false;
  private loop: Promise<void> | null = null;

  constructor(private readonly ctx: ScaleContext) {}

  async setUp(): Promise<void> {
    const d = this.ctx.daemon;
    const org = `bystander${randomBytes(2).toString('hex')}`;
    const made = await d.api('POST', '/v1/organizations', { name: org });
    if (made.status !== 201) throw new Error(`bystander organization: ${made.status} ${made.text}`);
    const minted = await d.api<{ token: string }>('POST', `/v1/organizations/${org}/tokens`, {
      description: 'scale bench bystander',
    });
    this.token = minted.body.token;
    d.orgTokens.push(this.token);
    const created = await d.api(
      'POST',
      '/v1/sprites',
      { name: 'bystander', config: { ram_mb: 256, storage_gb: 1 } },
      { token: this.token },
    );
    if (created.status !== 201) throw new Error(`bystander sprite: ${created.status} ${created.text}`);
    for (let i = 0; i < 20; i++) await this.once('quiet');
  }

  start(): void {
    this.loop = (async () => {
      while (!this.stopped && !this.ctx.interrupted.aborted) {
        await this.once(this.ctx.phases.of(this.ctx.fleet.size));
        await new Promise((r) => setTimeout(r, 500));
      }
    })();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.loop;
  }

  private once(phase: string): Promise<unknown> {
    const word = randomBytes(4).toString('hex');
    return this.ctx.recorder.time('bystander-exec', phase, async () => {
      const r = await execInSprite(this.ctx.daemon.url, this.token, 'bystander', ['echo', word], {
        timeoutMs: this.ctx.knobs.requestTimeoutMs,
      });
      return r.code === 0 && r.stdout === `${word}\n`
        ? { status: 101, ok: true }
        : { status: 'bad-output', ok: false, message: `exit ${r.code} ${r.stderr.slice(0, 100)}` };
    });
  }
}
