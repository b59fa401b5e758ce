import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join, resolve } from 'node:path';
import { test, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.js';

const REPO = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const COMPAT = join(REPO, 'test', 'compat');
const BIN = join(COMPAT, 'node_modules', '.bin');
const SDK_ENTRY = join(REPO, 'packages', 'sdk', 'dist', 'index.js');
const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));

/** What sdk-scenario.mjs observes on every runtime, for a sprite named `name`. */
function expected(name: string): Record<string, unknown> {
  return {
    create: { name, status: 'running', labels: ['rt'], created: true },
    exec: 'A  B\n',
    stdinInput: 'piped in',
    noStdin: 0,
    exitCode: 42,
    ttyExit: 7,
    output: 108894,
    ports: true,
    fs: { text: 'runtime', length: 7, names: ['x.txt'], dir: true, code: 'ENOENT' },
    checkpoint: { complete: 'complete', comment: 'rt' },
    abort: 'AbortError',
    sessions: true,
    delete: 'deleted',
    getAfterDelete: 404,
  };
}

/** A missing runtime fails the run where every test is required (CI), and skips elsewhere. */
function need(t: TestContext, what: string, present: boolean): boolean {
  if (present) return true;
  const why = `${what} is not installed (scripts/setup-host.sh installs it)`;
  if (process.env.SPRITES_REQUIRED_TESTS === '1') assert.fail(why);
  t.skip(why);
  return false;
}

async function runScenario(
  d: TestDaemon,
  name: string,
  file: string,
  args: string[],
): Promise<Record<string, unknown>> {
  const { stdout } = await promisify(execFile)(file, args, {
    cwd: COMPAT,
    env: {
      ...process.env,
      SPRITES_URL: d.url,
      SPRITES_TOKEN: d.adminToken,
      SPRITE_NAME: name,
      SPRITES_SDK_ENTRY: SDK_ENTRY,
      NO_COLOR: '1',
    },
    timeout: 180_000,
  });
  return JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as Record<string, unknown>;
}

/** Error objects differ in wording between clients; keep what a caller branches on. */
function normalize(result: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(result)) {
    if (value && typeof value === 'object' && 'error' in value) {
      const v = value as { exitCode?: unknown; status?: unknown };
      out[key] = { failed: true, exitCode: v.exitCode ?? null, status: v.status ?? null };
    } else if (key === 'tty') {
      const v = value as { code: number; text: string };
      out[key] = { code: v.code, text: v.text.replace(/\/dev\/pts\/\d+/, '/dev/pts/N') };
    } else if (key === 'fsWatch') {
      const events = value as string[];
      out[key] = ['write', 'remove'].map((kind) => events.includes(`${kind}:/home/sprite/proj/src/watched.txt`));
    } else out[key] = value;
  }
  return out;
}

test('the SDK runs unchanged on Node 24, Bun, Deno and in a browser', async (t) => {
  const d = await startTestDaemon(t);

  await t.test(
    'the official scenario gives the same results with our SDK as with @fly/sprites (Node 24)',
    async (t) => {
      if (
        !need(t, 'test/compat (@fly/sprites and Node 24)', existsSync(join(COMPAT, 'node_modules', '@fly', 'sprites')))
      )
        return;
      const official = await promisify(execFile)(join(BIN, 'node'), ['scenario.mjs'], {
        cwd: COMPAT,
        env: { ...process.env, SPRITES_URL: d.url, SPRITES_TOKEN: d.adminToken, SPRITE_NAME: 'js-compat' },
        timeout: 240_000,
      });
      const ours = await promisify(execFile)(join(BIN, 'node'), ['scenario.mjs'], {
        cwd: COMPAT,
        env: {
          ...process.env,
          SPRITES_URL: d.url,
          SPRITES_TOKEN: d.adminToken,
          SPRITE_NAME: 'js-compat',
          SPRITES_SDK_ENTRY: SDK_ENTRY,
        },
        timeout: 240_000,
      });
      const a = normalize(JSON.parse(official.stdout) as Record<string, unknown>);
      const b = normalize(JSON.parse(ours.stdout) as Record<string, unknown>);
      assert.deepEqual(b, a);
      assert.equal(a.exec, 'hello world\n', 'the scenario really ran');
    },
  );

  for (const [runtime, file, args] of [
    ['Node 24', join(BIN, 'node'), ['sdk-run.mjs']],
    ['Bun', join(BIN, 'bun'), ['sdk-run.mjs']],
    ['Deno', join(BIN, 'deno'), ['run', '--allow-all', 'sdk-run.mjs']],
  ] as const) {
    await t.test(`our SDK on ${runtime}`, async (t) => {
      if (!need(t, runtime, existsSync(file))) return;
      const name = `rt-${runtime.toLowerCase().replace(/\W/g, '')}`;
      assert.deepEqual(await runScenario(d, name, file, [...args]), expected(name));
    });
  }

  await t.test("the package README's examples run", async () => {
    const examples = join(REPO, 'packages', 'sdk', 'examples');
    const env = { ...process.env, SPRITE_TOKEN: d.adminToken, SPRITES_API_URL: d.url };
    const hello = await promisify(execFile)(process.execPath, [join(examples, 'hello.mjs'), 'ex-hello'], {
      env,
      timeout: 120_000,
    });
    assert.match(
      hello.stdout,
      /^created ex-hello \(running\)\nLinux .*\nsprite\nhello from the SDK\nwc counted 12 bytes\ndeleted ex-hello\n$/,
    );
    const cp = await promisify(execFile)(process.execPath, [join(examples, 'checkpoint.mjs'), 'ex-cp'], {
      env,
      timeout: 120_000,
    });
    assert.match(cp.stdout, /Checkpoint v0 created[\s\S]*after restore: good state\n$/);
  });

  await t.test('our SDK in headless Chromium (web streams; the token rides as a WebSocket sub-protocol)', async (t) => {
    if (!need(t, 'chromium', CHROMIUM !== undefined)) return;
    const bundled = await build({
      entryPoints: [join(COMPAT, 'sdk-browser-entry.mjs')],
      bundle: true,
      format: 'esm',
      platform: 'browser',
      write: false,
      logLevel: 'silent',
    });
    const bundle = bundled.outputFiles[0]!.text;
    assert.ok(!bundle.includes('node:stream'), 'the browser bundle pulls in no Node module');
    let deliver!: (body: string) => void;
    const result = new Promise<string>((r) => (deliver = r));
    const page = `<!doctype html><script type="module">
      import { run } from './bundle.js';
      const p = new URLSearchParams(location.hash.slice(1));
      const out = await run(p.get('url'), p.get('token'), p.get('name')).catch((e) => ({ fatal: String(e && e.stack || e) }));
      await fetch('/result', { method: 'POST', body: JSON.stringify(out) });
    </script>`;
    const server: Server = createServer((req, res) => {
      if (req.url === '/bundle.js') return void res.writeHead(200, { 'content-type': 'text/javascript' }).end(bundle);
      if (req.url === '/result' && req.method === 'POST') {
        let body = '';
        req.on('data', (c: Buffer) => (body += c.toString()));
        req.on('end', () => {
          res.writeHead(204).end();
          deliver(body);
        });
        return;
      }
      res.writeHead(200, { 'content-type': 'text/html' }).end(page);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const address = server.address();
    const pagePort = typeof address === 'object' && address ? address.port : 0;
    const profile = mkdtempSync('/tmp/spr-chromium-');
    const name = 'rt-browser';
    const fragment = new URLSearchParams({ url: d.url, token: d.adminToken, name }).toString();
    const browser = spawn(
      CHROMIUM!,
      [
        '--headless=new',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-dev-shm-usage',
        '--no-first-run',
        '--no-default-browser-check',
        `--user-data-dir=${profile}`,
        `http://127.0.0.1:${pagePort}/#${fragment}`,
      ],
      { detached: true, stdio: 'ignore' },
    );
    try {
      const timeout = new Promise<string>((_, reject) =>
        setTimeout(() => reject(new Error('the page did not report within 120 s')), 120_000).unref(),
      );
      const observed = JSON.parse(await Promise.race([result, timeout])) as Record<string, unknown>;
      assert.deepEqual(observed, expected(name));
    } finally {
      // The browser and its helpers are one process group that this test started.
      try {
        process.kill(-browser.pid!, 'SIGKILL');
      } catch {
        // already gone
      }
      await new Promise((r) =>
        browser.exitCode === null && browser.signalCode === null ? browser.once('exit', r) : r(null),
      );
      server.close();
      rmSync(profile, { recursive: true, force: true });
    }
  });
});
