import { randomBytes } from 'node:crypto';
import { execInSprite } from '../../test/helpers/exec.js';
import type { TestDaemon } from '../../test/helpers/daemon.js';
import type { Answer } from './recorder.js';

export interface SpriteCounts {
  running: number;
  warm: number;
  cold: number;
}

interface ListPage {
  sprites?: { name: string; id: string; status: string }[];
  has_more?: boolean;
  next_continuation_token?: string | null;
  running?: number;
  warm?: number;
  cold?: number;
}

/** A field of an error body as text: strings as they are, anything else as JSON. */
function fieldText(v: unknown): string {
  return typeof v === 'string' ? v : v === undefined || v === null ? '' : JSON.stringify(v);
}

/** The message of an error answer: the JSON body's `error: message`, else the start of the text. */
function errorMessage(status: number, text: string): string {
  try {
    const body = JSON.parse(text) as { error?: unknown; message?: unknown };
    if (typeof body === 'object' && body !== null)
      return `${status} ${fieldText(body.error)}: ${fieldText(body.message)}`;
  } catch {
    // not JSON
  }
  return `${status} ${text.slice(0, 200)}`;
}

/**
 * The public API as the bench uses it, each call bounded by a deadline and cut short by an
 * interrupt. The daemon's URL is read on every call: it changes when the daemon restarts.
 */
export class ScaleClient {
  constructor(
    private readonly daemon: TestDaemon,
    private readonly timeoutMs: number,
    private readonly interrupted: AbortSignal,
    private readonly spriteConfig: { ram_mb: number; storage_gb: number },
  ) {}

  private signal(timeoutMs = this.timeoutMs): AbortSignal {
    return AbortSignal.any([AbortSignal.timeout(timeoutMs), this.interrupted]);
  }

  private async http(
    method: string,
    path: string,
    opts: { json?: unknown; body?: Buffer; timeoutMs?: number } = {},
  ): Promise<{ status: number; bytes: Buffer }> {
    const headers: Record<string, string> = { authorization: `Bearer ${this.daemon.adminToken}` };
    let body: string | Buffer | undefined;
    if (opts.json !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(opts.json);
    } else if (opts.body !== undefined) {
      headers['content-type'] = 'application/octet-stream';
      body = opts.body;
    }
    const signal = this.signal(opts.timeoutMs);
    const res = await fetch(`${this.daemon.url}${path}`, { method, headers, body, signal });
    return { status: res.status, bytes: Buffer.from(await res.arrayBuffer()) };
  }

  async create(name: string): Promise<Answer<string>> {
    const { status, bytes } = await this.http('POST', '/v1/sprites', { json: { name, config: this.spriteConfig } });
    const text = bytes.toString('utf8');
    if (status !== 201) return { status, ok: false, message: errorMessage(status, text) };
    return { status, ok: true, value: (JSON.parse(text) as { id: string }).id };
  }

  async remove(name: string): Promise<Answer> {
    const { status, bytes } = await this.http('DELETE', `/v1/sprites/${name}`);
    return status === 204 || status === 200
      ? { status, ok: true }
      : { status, ok: false, message: errorMessage(status, bytes.toString('utf8')) };
  }

  /** `echo <random token>` through the exec WebSocket; the output must be that token. */
  async exec(name: string): Promise<Answer> {
    const token = randomBytes(6).toString('hex');
    const r = await execInSprite(this.daemon.url, this.daemon.adminToken, name, ['echo', token], {
      timeoutMs: this.timeoutMs,
    });
    if (r.code !== 0 || r.stdout !== `${token}\n`) {
      return {
        status: 'bad-output',
        ok: false,
        message: `exit ${r.code}, stdout ${JSON.stringify(r.stdout.slice(0, 100))}, stderr ${JSON.stringify(r.stderr.slice(0, 100))}`,
      };
    }
    return { status: 101, ok: true };
  }

  async writeFile(name: string, path: string, content: Buffer): Promise<Answer> {
    const q = new URLSearchParams({ path, mkdirParents: 'true' });
    const { status, bytes } = await this.http('PUT', `/v1/sprites/${name}/fs/write?${q.toString()}`, { body: content });
    return status === 200 || status === 201
      ? { status, ok: true }
      : { status, ok: false, message: errorMessage(status, bytes.toString('utf8')) };
  }

  /** Reads a file back; anything but exactly `expected` is a failure. */
  async readFile(name: string, path: string, expected: Buffer, what = 'read back'): Promise<Answer> {
    const { status, bytes } = await this.http(
      'GET',
      `/v1/sprites/${name}/fs/read?${new URLSearchParams({ path }).toString()}`,
    );
    if (status !== 200) return { status, ok: false, message: errorMessage(status, bytes.toString('utf8')) };
    if (!bytes.equals(expected))
      return {
        status: 'bad-output',
        ok: false,
        message: `${what}: ${bytes.length} bytes that differ from the ${expected.length} expected`,
      };
    return { status, ok: true };
  }

  /**
   * An NDJSON progress stream (PROTOCOL.md §11.3, §12.2): 200, every line JSON, no `error`
   * line, and a last `complete` line; its `data` is the value.
   */
  private async stream(path: string, json?: unknown): Promise<Answer<string>> {
    const { status, bytes } = await this.http('POST', path, { json });
    const text = bytes.toString('utf8');
    if (status !== 200) return { status, ok: false, message: errorMessage(status, text) };
    const lines: { type?: string; data?: string; error?: string }[] = [];
    for (const line of text.split('\n').filter((l) => l.trim() !== '')) {
      try {
        lines.push(JSON.parse(line) as { type?: string; data?: string; error?: string });
      } catch {
        return { status: 'stream-error', ok: false, message: `a line that is not JSON: ${line.slice(0, 200)}` };
      }
    }
    const error = lines.find((l) => l.type === 'error');
    if (error) return { status: 'stream-error', ok: false, message: error.error ?? JSON.stringify(error) };
    const last = lines[lines.length - 1];
    if (last?.type !== 'complete')
      return {
        status: 'stream-error',
        ok: false,
        message: `the stream ended without "complete" (last line ${JSON.stringify(last)})`,
      };
    return { status, ok: true, value: last.data ?? '' };
  }

  /** Takes a checkpoint; the value is its id (from "Checkpoint v3 created"). */
  async checkpoint(name: string): Promise<Answer<string>> {
    const r = await this.stream(`/v1/sprites/${name}/checkpoint`, { comment: 'bench:scale' });
    if (!r.ok) return r;
    const id = /Checkpoint (\S+) created/.exec(r.value ?? '')?.[1];
    if (!id)
      return {
        status: 'stream-error',
        ok: false,
        message: `"complete" names no checkpoint: ${JSON.stringify(r.value)}`,
      };
    return { ...r, value: id };
  }

  async restore(name: string, checkpoint: string): Promise<Answer<string>> {
    return this.stream(`/v1/sprites/${name}/checkpoints/${checkpoint}/restore`);
  }

  async deleteCheckpoint(name: string, checkpoint: string): Promise<Answer> {
    const { status, bytes } = await this.http('DELETE', `/v1/sprites/${name}/checkpoints/${checkpoint}`);
    return status === 204 || status === 200
      ? { status, ok: true }
      : { status, ok: false, message: errorMessage(status, bytes.toString('utf8')) };
  }

  /** One page of the sprite list; the value is the page (names, counts, the next token). */
  async listPage(maxResults: number, token?: string): Promise<Answer<ListPage>> {
    const q = new URLSearchParams({ max_results: String(maxResults) });
    if (token) q.set('continuation_token', token);
    const { status, bytes } = await this.http('GET', `/v1/sprites?${q.toString()}`);
    const text = bytes.toString('utf8');
    if (status !== 200) return { status, ok: false, message: errorMessage(status, text) };
    return { status, ok: true, value: JSON.parse(text) as ListPage };
  }

  /** The organization's sprites by status (from the list's counters). */
  async counts(): Promise<SpriteCounts> {
    const r = await this.listPage(1);
    if (!r.ok || !r.value) throw new Error(`list for the counts: ${r.message ?? String(r.status)}`);
    return { running: r.value.running ?? 0, warm: r.value.warm ?? 0, cold: r.value.cold ?? 0 };
  }

  /** Every sprite's name, paging through the list (not timed). */
  async allNames(): Promise<string[]> {
    const names: string[] = [];
    let token: string | undefined;
    for (let page = 0; page < 100_000; page++) {
      const r = await this.listPage(100, token);
      if (!r.ok || !r.value) throw new Error(`list: ${r.message ?? String(r.status)}`);
      names.push(...(r.value.sprites ?? []).map((s) => s.name));
      token = r.value.next_continuation_token ?? undefined;
      if (!r.value.has_more || !token) break;
    }
    return names;
  }
}
