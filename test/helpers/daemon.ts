import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import type { TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { collectLeftovers } from './leftovers.js';
import { execInSprite, type ExecResult } from './exec.js';

const REPO = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const MAIN = join(REPO, 'packages/server/dist/main.js');

export interface DaemonOptions {
  runtime?: 'crun' | 'runc';
  listen?: string;
  env?: Record<string, string>;
  extraArgs?: string[];
}

export interface ApiResponse<T = unknown> {
  status: number;
  headers: Headers;
  body: T;
  text: string;
}

/** A real spritesd process on a temporary data dir with its own instance id. */
export class TestDaemon {
  readonly instanceId: string;
  readonly dataDir: string;
  url = '';
  adminToken = '';
  private child: ChildProcess | null = null;
  private logLines: string[] = [];
  private startLine = 0;
  /** Tokens of other organizations whose sprites teardown must delete too. */
  readonly orgTokens: string[] = [];

  constructor(private readonly options: DaemonOptions = {}) {
    this.instanceId = `t${randomBytes(3).toString('hex').slice(0, 5)}`;
    this.dataDir = mkdtempSync('/tmp/spr-test-');
  }

  get runtime(): 'crun' | 'runc' {
    return this.options.runtime ?? (process.env.SPRITES_TEST_RUNTIME as 'crun' | 'runc' | undefined) ?? 'crun';
  }

  get pid(): number {
    return this.child?.pid ?? 0;
  }

  /** Starts the daemon and waits for it to listen; `env` adds to the options' environment for this start only. */
  async start(extraArgs: string[] = [], env: Record<string, string> = {}): Promise<void> {
    const args = [
      MAIN,
      '--data-dir',
      this.dataDir,
      '--listen',
      this.options.listen ?? '127.0.0.1:0',
      '--instance',
      this.instanceId,
      '--runtime',
      this.runtime,
      '--pool-size',
      '6G',
      ...(this.options.extraArgs ?? []),
      ...extraArgs,
    ];
    this.startLine = this.logLines.length;
    const child = spawn(process.execPath, args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, SPRITES_LOG_LEVEL: 'info', SPRITES_PIDS_PER_SPRITE: '256', ...this.options.env, ...env },
    });
    this.child = child;
    const ready = new Promise<string>((resolveReady, rejectReady) => {
      const onLine = (line: string) => {
        this.logLines.push(line);
        if (this.logLines.length > 2000) {
          this.logLines.shift();
          this.startLine = Math.max(0, this.startLine - 1);
        }
        const m = /"event":"daemon\.ready","url":"([^"]+)"/.exec(line);
        if (m) resolveReady(m[1]!);
      };
      createInterface({ input: child.stdout }).on('line', onLine);
      createInterface({ input: child.stderr }).on('line', onLine);
      child.once('exit', (code, signal) =>
        rejectReady(new Error(`spritesd exited during startup (code ${code}, signal ${signal}):\n${this.logTail()}`)),
      );
    });
    const timeout = new Promise<never>((_, rej) =>
      setTimeout(() => rej(new Error(`spritesd did not become ready in 300 s:\n${this.logTail()}`)), 300_000).unref(),
    );
    this.url = await Promise.race([ready, timeout]);
    this.adminToken = readFileSync(join(this.dataDir, 'admin.token'), 'utf8').trim();
  }

  /** Waits until `count` log lines of this daemon process (since its start) match `pattern`. */
  async waitForLog(pattern: RegExp, count = 1, timeoutMs = 60_000): Promise<string[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const hits = this.logLines.slice(this.startLine).filter((l) => pattern.test(l));
      if (hits.length >= count) return hits;
      if (Date.now() > deadline)
        throw new Error(`no ${count} log lines matching ${pattern} within ${timeoutMs} ms:\n${this.logTail()}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Resolves when the daemon process has exited on its own (a crash); rejects after `timeoutMs`. */
  async exited(timeoutMs: number): Promise<NodeJS.Signals | number | null> {
    const child = this.child;
    if (!child) return null;
    if (child.exitCode !== null || child.signalCode !== null) return child.signalCode ?? child.exitCode;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`spritesd did not exit within ${timeoutMs} ms:\n${this.logTail()}`)),
        timeoutMs,
      );
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        resolve(signal ?? code);
      });
    });
  }

  logTail(n = 40): string {
    return this.logLines.slice(-n).join('\n');
  }

  /** SIGTERM (optionally after asking for --stop-sprites at start) and wait for exit. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return child?.exitCode ?? null;
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    child.kill(signal);
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    const code = await exited;
    clearTimeout(timer);
    this.child = null;
    if (signal !== 'SIGKILL' && code !== 0)
      throw new Error(`spritesd exited with ${code} on ${signal}:\n${this.logTail()}`);
    return code;
  }

  /** Restarts; `stopSprites` makes the shutdown stop running sprites first. */
  async restart(opts: { stopSprites?: boolean; kill9?: boolean } = {}): Promise<void> {
    if (opts.kill9) await this.stop('SIGKILL');
    else if (opts.stopSprites) {
      await this.stop('SIGTERM');
      // A daemon started without --stop-sprites leaves sprites running: start one that stops them.
      await this.start(['--stop-sprites']);
      await this.stop('SIGTERM');
    } else await this.stop('SIGTERM');
    await this.start();
  }

  async api<T = unknown>(
    method: string,
    path: string,
    body?: unknown,
    opts: { token?: string | null; rawBody?: string | Buffer; headers?: Record<string, string> } = {},
  ): Promise<ApiResponse<T>> {
    const headers: Record<string, string> = { ...opts.headers };
    const token = opts.token === undefined ? this.adminToken : opts.token;
    if (token !== null) headers.authorization = `Bearer ${token}`;
    let payload: string | Buffer | undefined;
    if (opts.rawBody !== undefined) payload = opts.rawBody;
    else if (body !== undefined) {
      payload = JSON.stringify(body);
      headers['content-type'] ??= 'application/json';
    }
    const res = await fetch(`${this.url}${path}`, { method, headers, body: payload });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      // not JSON; keep the text
    }
    return { status: res.status, headers: res.headers, body: parsed as T, text };
  }

  async createSprite(
    name: string,
    config: Record<string, unknown> = { ram_mb: 512, storage_gb: 2 },
    token?: string,
  ): Promise<{ id: string; name: string; status: string }> {
    const res = await this.api<{ id: string; name: string; status: string }>(
      'POST',
      '/v1/sprites',
      { name, config },
      { token },
    );
    if (res.status !== 201) throw new Error(`create ${name} failed: ${res.status} ${res.text}\n${this.logTail()}`);
    return res.body;
  }

  exec(
    name: string,
    argv: string[],
    opts: { stdin?: string | Buffer; env?: string[]; dir?: string; token?: string } = {},
  ): Promise<ExecResult> {
    return execInSprite(this.url, opts.token ?? this.adminToken, name, argv, opts);
  }

  /** Runs a shell snippet as root inside the sprite. */
  sh(name: string, script: string): Promise<ExecResult> {
    return this.exec(name, ['sudo', 'sh', '-c', script]);
  }

  /**
   * Deletes all sprites of every organization it knows, stops, and removes the data dir.
   * Returns what a clean stop with no sprite left behind on the host (it must be nothing);
   * whatever it was is cleaned up all the same.
   */
  async destroy(): Promise<string[]> {
    let stopError: unknown = null;
    if (this.child) {
      await this.deleteAllSprites([this.adminToken, ...this.orgTokens]).catch(() => undefined);
      await this.stop('SIGTERM').catch((e: unknown) => (stopError = e));
    }
    let leftovers = collectLeftovers(this.instanceId, this.dataDir);
    // The pool's loop device is set to autoclear and goes when the last reference to its
    // filesystem does; a mount namespace elsewhere on the host (another test's sprite being
    // started at that moment copies every mount) can hold one for a few seconds more.
    for (
      let waited = 0;
      leftovers.length > 0 && leftovers.every((l) => l.startsWith('loop device')) && waited < 30_000;
      waited += 500
    ) {
      await new Promise((r) => setTimeout(r, 500));
      leftovers = collectLeftovers(this.instanceId, this.dataDir);
    }
    if (stopError)
      leftovers.unshift(
        `clean stop failed: ${stopError instanceof Error ? String(stopError) : JSON.stringify(stopError)}`,
      );
    // Anything still running (a failed test) is stopped by a --stop-sprites start.
    if (leftovers.length > 0) {
      await this.start(['--stop-sprites']).catch(() => undefined);
      await this.deleteAllSprites([this.adminToken, ...this.orgTokens]).catch(() => undefined);
      await this.stop('SIGTERM');
    }
    if (process.env.SPRITES_TEST_INSPECT !== '1') rmSync(this.dataDir, { recursive: true, force: true });
    return leftovers;
  }

  async deleteAllSprites(tokens: string[] = [this.adminToken]): Promise<void> {
    for (const token of tokens) {
      // Page after page from the start: each page's sprites are gone before the next is asked for.
      for (let round = 0; round < 1000; round++) {
        const list = await this.api<{ sprites?: { name: string }[] }>('GET', '/v1/sprites?max_results=100', undefined, {
          token,
        });
        const names = (list.body.sprites ?? []).map((s) => s.name);
        if (names.length === 0) break;
        for (let i = 0; i < names.length; i += 8)
          await Promise.all(
            names.slice(i, i + 8).map((n) => this.api('DELETE', `/v1/sprites/${n}`, undefined, { token })),
          );
      }
    }
  }
}

/**
 * Starts a daemon for one test file and registers its teardown, which deletes everything it
 * created and then fails the test if any host resource with its instance id is left.
 */
export async function startTestDaemon(t: TestContext, options: DaemonOptions = {}): Promise<TestDaemon> {
  const daemon = new TestDaemon(options);
  t.after(async () => {
    const afterCleanStop = await daemon.destroy();
    const remaining = collectLeftovers(daemon.instanceId, daemon.dataDir);
    if (afterCleanStop.length > 0 || remaining.length > 0) {
      throw new Error(
        `host resources of instance ${daemon.instanceId} left behind after deleting every sprite and a clean stop:\n${afterCleanStop.join('\n')}\nstill there after recovery:\n${remaining.join('\n')}`,
      );
    }
  });
  await daemon.start();
  return daemon;
}

export type { ExecResult };
