import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, beforeEach, describe, test } from 'node:test';
import { runCli, VERSION } from './cli.js';
import { parseEnv } from './commands/exec.js';
import { parseForward } from './commands/proxy.js';
import { io } from './output.js';

/**
 * `sprite` run in-process against a fake API: what the command line asks for (the requests
 * it makes), what it prints (stdout, stderr) and its exit status. No daemon.
 */

interface Seen {
  method: string;
  url: string;
  authorization?: string;
  body: string;
}

type Reply = { status: number; json?: unknown; ndjson?: unknown[] };

/** The fake API's answers by "METHOD /path" (query excluded); anything else is a 404. */
let routes: Record<string, Reply> = {};
let seen: Seen[] = [];

const server = createServer((req: IncomingMessage, res: ServerResponse) => {
  let body = '';
  req.on('data', (c: Buffer) => (body += c.toString('utf8')));
  req.on('end', () => {
    const url = req.url ?? '/';
    seen.push({ method: req.method ?? '', url, authorization: req.headers.authorization, body });
    const reply = routes[`${req.method} ${url.split('?')[0]}`] ?? {
      status: 404,
      json: { error: 'not_found', message: 'no such thing' },
    };
    if (reply.ndjson) {
      res.writeHead(reply.status, { 'content-type': 'application/x-ndjson' });
      res.end(reply.ndjson.map((l) => `${JSON.stringify(l)}\n`).join(''));
    } else if (reply.json !== undefined) {
      res.writeHead(reply.status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(reply.json));
    } else {
      res.writeHead(reply.status);
      res.end();
    }
  });
});

let apiUrl = '';
let scratch = '';
const savedEnv = { ...process.env };
const savedCwd = process.cwd();

before(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  apiUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  // No credentials, config, .sprite file or local daemon of the machine running the tests.
  scratch = mkdtempSync(join(tmpdir(), 'sprite-cli-unit-'));
  for (const key of ['SPRITES_API_URL', 'SPRITE_TOKEN', 'SPRITE_ORG', 'SPRITE_NAME']) delete process.env[key];
  process.env.SPRITES_CONFIG_DIR = join(scratch, 'config');
  process.env.SPRITES_DATA_DIR = join(scratch, 'no-daemon');
  process.chdir(scratch);
});

after(async () => {
  process.chdir(savedCwd);
  process.env = savedEnv;
  rmSync(scratch, { recursive: true, force: true });
  await new Promise((resolve) => server.close(resolve));
});

beforeEach(() => {
  routes = {};
  seen = [];
});

/** Runs `sprite ...argv` with output captured. */
async function sprite(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const saved = { ...io };
  const out = { stdout: '', stderr: '' };
  const text = (chunk: string | Uint8Array) => (typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString());
  io.stdout = { write: (chunk) => (out.stdout += text(chunk)) };
  io.stderr = { write: (chunk) => (out.stderr += text(chunk)) };
  try {
    return { code: await runCli(argv), ...out };
  } finally {
    Object.assign(io, saved);
  }
}

/** `sprite` with the fake API's URL and a token (given before the command word). */
function api(...argv: string[]) {
  return sprite('--api-url', apiUrl, '--token', 'tok', ...argv);
}

const DAY = 86_400_000;
// Times well inside their unit, so a slow run does not print the next one.
const daysAgo = (n: number) => new Date(Date.now() - n * DAY - 60_000).toISOString();
const fiveMinutesAgo = () => new Date(Date.now() - 5 * 60_000 - 10_000).toISOString();

function wireSprite(name: string, status: string, extra: Record<string, unknown> = {}) {
  return {
    id: `id-${name}`,
    name,
    organization: 'lab',
    status,
    config: { ram_mb: 512, cpus: 1, storage_gb: 10 },
    url: `http://${name}.sprites.test`,
    url_settings: { auth: 'sprite' },
    labels: [],
    created_at: daysAgo(3),
    updated_at: daysAgo(1),
    last_running_at: daysAgo(2),
    ...extra,
  };
}

describe('usage errors: a message on stderr and exit status 2, no request made', () => {
  test('an unknown command, also below a group', async () => {
    const r = await sprite('frobnicate');
    assert.equal(r.code, 2);
    assert.equal(r.stderr, 'sprite: unknown command "frobnicate"; see `sprite --help`\n');
    assert.equal(r.stdout, '');
    const sub = await sprite('checkpoint', 'frob');
    assert.equal(sub.code, 2);
    assert.equal(sub.stderr, 'sprite: unknown command "checkpoint frob"; see `sprite checkpoint --help`\n');
  });

  test('unknown options, missing values and values on flags', async () => {
    for (const [argv, message] of [
      [['ls', '--bogus'], 'unknown option --bogus'],
      [['exec', '-z', 'ls'], 'unknown option -z'],
      [['exec', '-s'], '-s needs a value'],
      [['ls', '--prefix'], '--prefix needs a value'],
      [['ls', '--json=yes'], '--json takes no value'],
      [['create', 'x', '--ram', 'lots'], '--ram must be a whole number, got "lots"'],
    ] as const) {
      const r = await api(...argv);
      assert.equal(r.code, 2, argv.join(' '));
      assert.equal(r.stderr, `sprite: ${message}\n`, argv.join(' '));
    }
    assert.deepEqual(seen, []);
  });

  test('missing arguments say what to give', async () => {
    for (const [argv, pattern] of [
      [['exec', '-s', 'demo'], /what should run\? sprite exec/],
      [['create'], /give the new sprite a name/],
      [['restore'], /which checkpoint\?/],
      [['services', 'create', 'web'], /--cmd is required/],
      [['url', 'update', '--auth', 'wide-open', '-s', 'demo'], /--auth must be `public` or `sprite`/],
      [['policy', 'set', '-s', 'demo'], /give rules/],
      [['exec', '-s', 'demo', '--env', 'novalue', '--', 'true'], /--env wants KEY=VALUE pairs, got "novalue"/],
      [['completion', 'tcsh'], /which shell\?/],
    ] as const) {
      const r = await api(...argv);
      assert.equal(r.code, 2, argv.join(' '));
      assert.match(r.stderr, pattern, argv.join(' '));
    }
  });

  test('no API anywhere: a usage error that says how to configure one', async () => {
    const r = await sprite('ls');
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^sprite: no API configured: run `sprite login URL --token TOKEN`/);
    const org = await sprite('ls', '-o', 'nowhere');
    assert.equal(org.code, 2);
    assert.match(org.stderr, /organization "nowhere" is not configured/);
  });
});

describe('help and version', () => {
  test('--help prints usage, the command options, the global options and examples; exit 0', async () => {
    const r = await sprite('checkpoint', 'create', '--help');
    assert.equal(r.code, 0);
    assert.equal(r.stderr, '');
    assert.equal(
      r.stdout,
      `Checkpoint the sprite's disk (milliseconds, any size)

Usage:
  sprite checkpoint create [--comment TEXT]

Options:
  -m, --comment TEXT             a note kept with the checkpoint

Global options:
      --api-url URL              API URL (env SPRITES_API_URL); default: the configured org, else the daemon on this host
      --token TOKEN              API token (env SPRITE_TOKEN)
  -o, --org ORG                  organization from ~/.sprites/sprites.json (env SPRITE_ORG)
  -s, --sprite NAME              the sprite to act on (default: the .sprite file here)
      --json                     print JSON instead of text
  -h, --help                     show help

Examples:
  sprite checkpoint create -s demo --comment "before upgrade"
`,
    );
    const exec = await sprite('-h', 'exec');
    assert.match(exec.stdout, /\n {2}-e, --env K=V,\.\.\. {14}environment variables \(repeatable\)\n/);
  });

  test('a group lists its commands; without a command it is a usage error (exit 2)', async () => {
    const r = await sprite('services');
    assert.equal(r.code, 2);
    assert.match(
      r.stdout,
      /\nAliases: services, service, svc\n\nCommands:\n {2}list, ls {21}List services with their state\n/,
    );
    assert.match(r.stdout, /Run `sprite services COMMAND --help` for a command's options\./);
    assert.equal((await sprite()).code, 2);
    assert.equal((await sprite('--help')).code, 0);
  });

  test('--version and version', async () => {
    for (const argv of [['--version'], ['version']]) {
      const r = await sprite(...argv);
      assert.deepEqual(r, { code: 0, stdout: `sprite ${VERSION}\n`, stderr: '' });
    }
  });

  test('completion scripts name the commands and their subcommands', async () => {
    const bash = await sprite('completion', 'bash');
    assert.equal(bash.code, 0);
    assert.match(bash.stdout, /compgen -W "create list ls info/);
    assert.match(bash.stdout, /\n {4}checkpoint\) COMPREPLY=\(\$\(compgen -W "create list ls info delete rm restore"/);
    assert.match((await sprite('completion', 'zsh')).stdout, /^#compdef sprite\n/);
    assert.match((await sprite('completion', 'fish')).stdout, /__fish_seen_subcommand_from policy" -a "get set"/);
  });
});

describe('flags become requests', () => {
  test('global options may come before the command word; the token is sent as a bearer', async () => {
    routes['GET /v1/sprites/demo'] = { status: 200, json: wireSprite('demo', 'running') };
    const r = await sprite('--api-url', apiUrl, '--token', 'tok', '-s', 'demo', 'info', '--json');
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(
      seen.map((s) => [s.method, s.url, s.authorization]),
      [['GET', '/v1/sprites/demo', 'Bearer tok']],
    );
  });

  test('the environment stands in for the flags', async () => {
    routes['GET /v1/sprites'] = { status: 200, json: { sprites: [], has_more: false } };
    process.env.SPRITES_API_URL = apiUrl;
    process.env.SPRITE_TOKEN = 'from-env';
    try {
      assert.equal((await sprite('ls', '--prefix', 'ci-')).code, 0);
    } finally {
      delete process.env.SPRITES_API_URL;
      delete process.env.SPRITE_TOKEN;
    }
    assert.equal(seen[0]?.authorization, 'Bearer from-env');
    assert.equal(new URL(seen[0].url, apiUrl).searchParams.get('prefix'), 'ci-');
  });

  test('create: the name, labels and sizes', async () => {
    routes['POST /v1/sprites'] = { status: 201, json: wireSprite('box', 'running', { labels: ['a', 'b'] }) };
    const r = await api(
      'create',
      'box',
      '--label',
      'a',
      '--label',
      'b',
      '--ram',
      '2048',
      '--cpus',
      '2',
      '--skip-console',
    );
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, 'Created sprite box (running)\n');
    assert.deepEqual(JSON.parse(seen[0]!.body), { name: 'box', config: { ram_mb: 2048, cpus: 2 }, labels: ['a', 'b'] });
  });

  test('checkpoint create sends the comment and follows the progress stream', async () => {
    routes['POST /v1/sprites/demo/checkpoint'] = {
      status: 200,
      ndjson: [
        { type: 'info', data: 'Creating checkpoint' },
        { type: 'complete', data: 'Checkpoint v1 created' },
      ],
    };
    const r = await api('checkpoint', 'create', '-s', 'demo', '-m', 'before upgrade');
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(seen[0]!.body), { comment: 'before upgrade' });
    assert.equal(r.stderr, 'Creating checkpoint\nCheckpoint v1 created\n');
    assert.equal(r.stdout, '');
  });

  test('policy set: includes, then allows, then denies', async () => {
    routes['POST /v1/sprites/demo/policy/network'] = { status: 204 };
    const r = await api(
      'policy',
      'set',
      '-s',
      'demo',
      '--deny',
      'evil.example',
      '--allow',
      '*',
      '--include',
      'defaults',
    );
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(seen[0]!.body), {
      rules: [{ include: 'defaults' }, { domain: '*', action: 'allow' }, { domain: 'evil.example', action: 'deny' }],
    });
    assert.equal(r.stderr, 'demo: 3 rule(s) in force; other names are refused\n');
  });

  test('api: curl-like options after -- pick the method, body and headers', async () => {
    routes['PUT /v1/sprites/demo'] = { status: 200, json: { ok: true } };
    const r = await api('api', '/v1/sprites/demo', '--', '-X', 'put', '-d', '{"labels":["x"]}', '-H', 'X-Extra: 1');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, '{"ok":true}');
    assert.equal(seen[0]!.method, 'PUT');
    assert.equal(seen[0]!.body, '{"labels":["x"]}');
    const bad = await api('api', '/v1/sprites', '--', '-Q');
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /sprite api understands -X, -d, -H and -i; got "-Q"/);
  });
});

describe('output of the listings', () => {
  test('ls: a table with relative times and labels; --json the sprite objects', async () => {
    routes['GET /v1/sprites'] = {
      status: 200,
      json: {
        sprites: [wireSprite('demo', 'running', { labels: ['web', 'ci'] }), wireSprite('a-much-longer-name', 'cold')],
        has_more: false,
      },
    };
    const r = await api('ls');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(
      r.stdout,
      [
        'NAME                STATUS   CREATED  LAST RUNNING  LABELS',
        'demo                running  3d ago   now           web,ci',
        'a-much-longer-name  cold     3d ago   2d ago        -',
        '',
      ].join('\n'),
    );
    const json = JSON.parse((await api('ls', '--json')).stdout) as Record<string, unknown>[];
    assert.equal(json.length, 2);
    assert.deepEqual(
      { ...json[0], created_at: undefined, updated_at: undefined, last_running_at: undefined },
      {
        id: 'id-demo',
        name: 'demo',
        organization: 'lab',
        status: 'running',
        config: { ramMB: 512, cpus: 1, storageGB: 10 },
        url: 'http://demo.sprites.test',
        url_settings: { auth: 'sprite' },
        labels: ['web', 'ci'],
        created_at: undefined,
        updated_at: undefined,
        last_running_at: undefined,
        last_warming_at: null,
      },
    );
    assert.match(String(json[0]!.created_at), /^\d{4}-\d\d-\d\dT/);
  });

  test('ls with no sprites: a hint on stderr, nothing on stdout', async () => {
    routes['GET /v1/sprites'] = { status: 200, json: { sprites: [], has_more: false } };
    const r = await api('ls');
    assert.deepEqual(r, { code: 0, stdout: '', stderr: 'No sprites. Create one with `sprite create NAME`.\n' });
    assert.equal((await api('ls', '--json')).stdout, '[]\n');
  });

  test('info: aligned fields', async () => {
    routes['GET /v1/sprites/demo'] = { status: 200, json: wireSprite('demo', 'warm', { labels: ['x'] }) };
    const r = await api('info', 'demo');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^Name: {10}demo\nID: {12}id-demo\nOrganization: {2}lab\nStatus: {8}warm\n/);
    assert.match(r.stdout, /\nMemory: {8}512 MB\nCPUs: {10}1\nDisk: {10}10 GB\n/);
    assert.match(r.stdout, /\nURL: {11}http:\/\/demo\.sprites\.test \(auth: sprite\)\nLabels: {8}x\n/);
    assert.match(r.stdout, /\nLast running: {2}2d ago\n$/);
  });

  test('checkpoint ls: newest first as the API gives them; --json in wire field names', async () => {
    const v0Time = daysAgo(1);
    routes['GET /v1/sprites/demo/checkpoints'] = {
      status: 200,
      json: [
        { id: 'v1', create_time: fiveMinutesAgo(), comment: 'clean', history: ['v0'] },
        { id: 'v0', create_time: v0Time },
      ],
    };
    const r = await api('checkpoint', 'ls', '-s', 'demo');
    assert.match(r.stdout, /^ID {2}CREATED {2}COMMENT\nv1 {2}5m ago {3}clean\nv0 {2}1d ago {3}-\n$/);
    const json = JSON.parse((await api('checkpoint', 'ls', '-s', 'demo', '--json')).stdout) as unknown[];
    assert.deepEqual(json[1], {
      id: 'v0',
      create_time: v0Time,
      comment: null,
      history: [],
      is_auto: false,
      source_id: null,
    });
  });

  test('services ls: state columns; an empty list is a hint', async () => {
    routes['GET /v1/sprites/demo/services'] = {
      status: 200,
      json: [
        {
          name: 'web',
          cmd: 'python3',
          args: ['-m', 'http.server'],
          needs: [],
          http_port: 8080,
          state: { name: 'web', status: 'running', pid: 42, restart_count: 1, started_at: fiveMinutesAgo() },
        },
        { name: 'idle', cmd: 'sleep', args: ['9'], needs: [], state: { name: 'idle', status: 'stopped' } },
      ],
    };
    const r = await api('services', 'ls', '-s', 'demo');
    assert.equal(
      r.stdout,
      [
        'NAME  STATUS   PID  RESTARTS  STARTED  HTTP  COMMAND',
        'web   running  42   1         5m ago   8080  python3 -m http.server',
        'idle  stopped  -    0         -        -     sleep 9',
        '',
      ].join('\n'),
    );
    routes['GET /v1/sprites/demo/services'] = { status: 200, json: [] };
    assert.match((await api('services', 'ls', '-s', 'demo')).stderr, /^No services on demo\./);
  });

  test('policy get: rules as a table, none as "unrestricted", --json as stored', async () => {
    routes['GET /v1/sprites/demo/policy/network'] = {
      status: 200,
      json: { rules: [{ include: 'defaults' }, { domain: 'evil.example', action: 'deny' }] },
    };
    const r = await api('policy', 'get', '-s', 'demo');
    assert.equal(r.stdout, 'RULE              ACTION\ninclude defaults  allow\nevil.example      deny\n');
    routes['GET /v1/sprites/demo/policy/network'] = { status: 200, json: { rules: [] } };
    assert.equal(
      (await api('policy', 'get', '-s', 'demo')).stderr,
      'demo has no network policy: egress is unrestricted.\n',
    );
    assert.equal((await api('policy', 'get', '-s', 'demo', '--json')).stdout, '{\n  "rules": []\n}\n');
  });

  test('url: the URL alone, or with its access mode as JSON', async () => {
    routes['GET /v1/sprites/demo'] = { status: 200, json: wireSprite('demo', 'running') };
    assert.equal((await api('url', '-s', 'demo')).stdout, 'http://demo.sprites.test\n');
    assert.deepEqual(JSON.parse((await api('url', '-s', 'demo', '--json')).stdout), {
      url: 'http://demo.sprites.test',
      auth: 'sprite',
    });
  });
});

describe('API errors: a message and exit status 1', () => {
  test('a 404 names the error and the status', async () => {
    const r = await api('info', 'nope');
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^sprite: .*no such thing.* \(HTTP 404\)\n$/);
  });

  test('a 401 adds where the token comes from', async () => {
    routes['GET /v1/sprites'] = { status: 401, json: { error: 'unauthorized', message: 'bad token' } };
    const r = await api('ls');
    assert.equal(r.code, 1);
    assert.match(r.stderr, /\(HTTP 401\) \(check the token: `sprite login`, SPRITE_TOKEN or --token\)\n$/);
  });

  test('sprite api exits 1 on an HTTP error and prints the body', async () => {
    const r = await api('api', '/v1/sprites/nope');
    assert.equal(r.code, 1);
    assert.match(r.stdout, /"error":"not_found"/);
  });
});

describe('value parsers of commands', () => {
  test('parseEnv: comma-separated and repeated KEY=VALUE pairs; a value may hold = and be empty', () => {
    assert.deepEqual(parseEnv(['A=1,B=2', 'C=x=y', 'D=', '']), { A: '1', B: '2', C: 'x=y', D: '' });
    assert.throws(() => parseEnv(['=1']), /--env wants KEY=VALUE pairs, got "=1"/);
  });

  test('parseForward: PORT, LOCAL:REMOTE, LOCAL:HOST:REMOTE', () => {
    assert.deepEqual(parseForward('5432'), { localPort: 5432, remoteHost: 'localhost', remotePort: 5432 });
    assert.deepEqual(parseForward('15432:5432'), { localPort: 15432, remoteHost: 'localhost', remotePort: 5432 });
    assert.deepEqual(parseForward('1:db:2'), { localPort: 1, remoteHost: 'db', remotePort: 2 });
    assert.deepEqual(parseForward('1::2'), { localPort: 1, remoteHost: 'localhost', remotePort: 2 });
    for (const bad of ['', 'x', '70000', '1:2:3:4', '-1']) assert.throws(() => parseForward(bad), /is not PORT/);
  });
});
