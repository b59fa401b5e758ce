import assert from 'node:assert/strict';
import { execFile, execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { startTestDaemon } from '../helpers/daemon.js';
import { freePort, pollUntil } from '../helpers/ws.js';

const REPO = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const CLI = join(REPO, 'packages', 'cli', 'dist', 'sprite.cjs');

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

test('the sprite CLI: a fresh user on the daemon host, exec, console through a real terminal, listings, checkpoints', async (t) => {
  // Registered before the daemon's teardown, so the terminals are gone before it looks
  // for leftovers.
  const home = mkdtempSync('/tmp/spr-cli-home-');
  const work = mkdtempSync('/tmp/spr-cli-work-');
  // The terminal server's socket lives in our temporary directory, so it goes with it.
  const tmuxSocket = join(work, 'tmux.sock');
  t.after(() => {
    try {
      execFileSync('tmux', ['-S', tmuxSocket, 'kill-server'], { stdio: 'ignore' });
    } catch {
      // no server was started
    }
    rmSync(home, { recursive: true, force: true });
    rmSync(work, { recursive: true, force: true });
  });
  const d = await startTestDaemon(t);

  // A fresh user: an empty home, nothing in the environment but where the daemon keeps its
  // data (standing in for /var/lib/sprites).
  const baseEnv: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: home,
    SPRITES_DATA_DIR: d.dataDir,
    LANG: 'C.UTF-8',
  };
  const cli = (
    args: string[],
    opts: { input?: string; env?: Record<string, string>; cwd?: string } = {},
  ): Promise<Run> =>
    new Promise((resolveRun) => {
      const child = execFile(
        process.execPath,
        [CLI, ...args],
        { env: { ...baseEnv, ...opts.env }, cwd: opts.cwd ?? work, timeout: 120_000, maxBuffer: 64 * 1024 * 1024 },
        (err, stdout, stderr) => {
          const code = err
            ? typeof (err as { code?: unknown }).code === 'number'
              ? (err as { code: number }).code
              : 1
            : 0;
          resolveRun({ code, stdout, stderr });
        },
      );
      if (opts.input !== undefined) child.stdin!.end(opts.input);
      else child.stdin!.end();
    });
  const tmux = (...args: string[]) => execFileSync('tmux', ['-S', tmuxSocket, ...args], { encoding: 'utf8' });
  const screen = () => tmux('capture-pane', '-p', '-J', '-S', '-200', '-t', 'main');
  const waitScreen = (pattern: RegExp, what: string) =>
    pollUntil(() => pattern.exec(screen()), 30_000, what).catch((e: unknown) => {
      throw new Error(`${String(e)}\n--- screen ---\n${screen()}`);
    });
  const envArgs = Object.entries(baseEnv).map(([k, v]) => `${k}=${v}`);
  const inTerminal = (command: string) => {
    closeTerminal();
    tmux(
      'new-session',
      '-d',
      '-s',
      'main',
      '-x',
      '120',
      '-y',
      '40',
      'env',
      '-i',
      ...envArgs,
      'TERM=xterm-256color',
      'sh',
      '-c',
      `${command}; echo EXITED:$?; sleep 600`,
    );
  };
  const closeTerminal = () => {
    try {
      tmux('kill-session', '-t', 'main');
    } catch {
      // no such session
    }
  };

  await t.test('no configuration: create, exec and a console that detaches and reattaches', async () => {
    const created = await cli(['create', 'demo']);
    assert.equal(created.code, 0, created.stderr);
    assert.match(created.stderr, /Created sprite demo \(running\)/);
    const uname = await cli(['exec', '-s', 'demo', '--', 'uname', '-a']);
    assert.equal(uname.code, 0, uname.stderr);
    assert.match(uname.stdout, /^Linux demo /);

    inTerminal(`node ${CLI} console -s demo`);
    await waitScreen(/Ctrl-\\ detaches/, 'the console banner');
    await new Promise((r) => setTimeout(r, 500));
    tmux('send-keys', '-t', 'main', 'echo hello-$((6*7)) from $(whoami)', 'Enter');
    await waitScreen(/hello-42 from sprite/, 'the command output in the console');
    tmux('send-keys', '-t', 'main', 'C-\\');
    const detached = await waitScreen(/sprite attach (\S+)/, 'the detach message');
    const id = detached[1]!;
    await waitScreen(/EXITED:0/, 'the console to exit 0 on detach');
    const sessions = await cli(['sessions', 'list', '-s', 'demo', '--json']);
    assert.ok(
      (JSON.parse(sessions.stdout) as { id: string }[]).some((s) => s.id === id),
      'the detached session still runs',
    );
    closeTerminal();

    inTerminal(`node ${CLI} attach ${id} -s demo`);
    await waitScreen(/hello-42 from sprite/, 'the scrollback after attaching (a new terminal)');
    tmux('send-keys', '-t', 'main', 'exit', 'Enter');
    await waitScreen(/EXITED:0/, 'the shell to exit and the attach to end');
    closeTerminal();
  });

  await t.test('exec: exit codes, stdin, --file, --env, --dir as a shell user expects', async () => {
    for (const [argv, code] of [
      [['true'], 0],
      [['false'], 1],
      [['sh', '-c', 'exit 42'], 42],
      [['no-such-command'], 127],
      [['sh', '-c', 'kill -TERM $$'], 143],
    ] as const) {
      const r = await cli(['exec', '-s', 'demo', '--', ...argv]);
      assert.equal(r.code, code, `${argv.join(' ')}: ${r.stderr}`);
    }
    const missing = await cli(['exec', '-s', 'demo', '--', 'no-such-command']);
    assert.match(missing.stderr, /no-such-command/);
    const piped = await cli(['x', '-s', 'demo', '--', 'cat'], { input: 'hi through a pipe\n' });
    assert.equal(piped.stdout, 'hi through a pipe\n');
    const noDashes = await cli(['x', '-s', 'demo', 'ls', '-d', '/tmp']);
    assert.equal(noDashes.stdout, '/tmp\n', 'the command may follow without --');
    const local = join(work, 'upload.sh');
    writeFileSync(local, '#!/bin/sh\necho uploaded and run\n', { mode: 0o755 });
    const uploaded = await cli([
      'exec',
      '-s',
      'demo',
      '--file',
      `${local}:/home/sprite/bin/upload.sh`,
      '--',
      '/home/sprite/bin/upload.sh',
    ]);
    assert.equal(uploaded.stdout, 'uploaded and run\n', uploaded.stderr);
    const env = await cli([
      'exec',
      '-s',
      'demo',
      '--env',
      'A=1,B=2',
      '-e',
      'C=3',
      '--dir',
      '/tmp',
      '--',
      'sh',
      '-c',
      'echo $A$B$C; pwd',
    ]);
    assert.equal(env.stdout, '123\n/tmp\n');
    const big = await cli(['exec', '-s', 'demo', '--', 'sh', '-c', 'head -c 5000000 /dev/zero | tr "\\0" x']);
    assert.equal(big.stdout.length, 5_000_000, 'all output is written before the CLI exits');
    const http = await cli(
      [
        'exec',
        '--http-post',
        '-s',
        'demo',
        '--env',
        'X=over-http',
        '--',
        'sh',
        '-c',
        'cat; echo " $X"; echo err >&2; exit 3',
      ],
      { input: 'stdin' },
    );
    assert.deepEqual(
      [http.code, http.stdout, http.stderr],
      [3, 'stdin over-http\n', 'err\n'],
      '--http-post passes stdio and the exit code too',
    );
    const httpBig = await cli([
      'exec',
      '--http-post',
      '-s',
      'demo',
      '--',
      'sh',
      '-c',
      'head -c 3000000 /dev/zero | tr "\\0" y',
    ]);
    assert.equal(httpBig.stdout, 'y'.repeat(3_000_000));
    const badEnv = await cli(['exec', '-s', 'demo', '--env', 'novalue', '--', 'true']);
    assert.equal(badEnv.code, 2);
    assert.match(badEnv.stderr, /KEY=VALUE/);
    const noSprite = await cli(['exec', '-s', 'nope', '--', 'true']);
    assert.equal(noSprite.code, 1);
    assert.match(noSprite.stderr, /sprite not found/);
  });

  await t.test(
    'exec on a terminal: window resizes reach the sprite, Ctrl-C interrupts the remote command',
    async () => {
      inTerminal(`node ${CLI} exec -s demo -- sh -c 'stty size; read x; stty size'`);
      await waitScreen(/^40 120$/m, 'the initial terminal size');
      tmux('resize-window', '-t', 'main', '-x', '100', '-y', '30');
      await new Promise((r) => setTimeout(r, 500));
      tmux('send-keys', '-t', 'main', 'Enter');
      await waitScreen(/^30 100$/m, 'the new size');
      await waitScreen(/EXITED:0/, 'the command to end');
      closeTerminal();

      inTerminal(`node ${CLI} exec -s demo -- sleep 300`);
      await new Promise((r) => setTimeout(r, 1500));
      tmux('send-keys', '-t', 'main', 'C-c');
      await waitScreen(/EXITED:130/, 'Ctrl-C to end the remote sleep with 130');
      closeTerminal();

      // Without a terminal, SIGINT is sent to the remote command as a signal.
      const child = spawn(process.execPath, [CLI, 'exec', '-s', 'demo', '--', 'sleep', '300'], {
        env: baseEnv,
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      await new Promise((r) => setTimeout(r, 1500));
      child.kill('SIGINT');
      const code = await new Promise<number | null>((r) => child.once('exit', r));
      assert.equal(code, 130);
    },
  );

  await t.test('--json listings parse; checkpoints with progress; info, url, use, api', async () => {
    const list = JSON.parse((await cli(['list', '--json'])).stdout) as { name: string; status: string }[];
    assert.deepEqual(
      list.map((s) => s.name),
      ['demo'],
    );
    const text = await cli(['ls']);
    assert.match(text.stdout, /^NAME\s+STATUS/);
    assert.match(text.stdout, /\ndemo\s+running/);
    const info = JSON.parse((await cli(['info', 'demo', '--json'])).stdout) as { name: string; id: string };
    assert.equal(info.name, 'demo');
    assert.match((await cli(['info', '-s', 'demo'])).stdout, /Status:\s+running/);

    const made = await cli(['checkpoint', 'create', '-s', 'demo', '--comment', 'from the cli']);
    assert.equal(made.code, 0, made.stderr);
    assert.match(made.stderr, /Checkpoint v0 created/);
    const cps = JSON.parse((await cli(['checkpoint', 'ls', '-s', 'demo', '--json'])).stdout) as {
      id: string;
      comment: string;
    }[];
    assert.deepEqual(
      cps.map((c) => [c.id, c.comment]),
      [['v0', 'from the cli']],
    );
    assert.equal(
      (JSON.parse((await cli(['checkpoint', 'info', 'v0', '-s', 'demo', '--json'])).stdout) as { id: string }).id,
      'v0',
    );
    await cli(['exec', '-s', 'demo', '--', 'touch', '/home/sprite/after-checkpoint']);
    const restored = await cli(['restore', 'v0', '-s', 'demo']);
    assert.equal(restored.code, 0, restored.stderr);
    assert.match(restored.stderr, /Restored checkpoint v0/);
    assert.equal(
      (await cli(['exec', '-s', 'demo', '--', 'test', '-e', '/home/sprite/after-checkpoint'])).code,
      1,
      'the restore took the file away',
    );
    const withAuto = JSON.parse(
      (await cli(['checkpoint', 'list', '--include-auto', '-s', 'demo', '--json'])).stdout,
    ) as { is_auto: boolean }[];
    assert.ok(withAuto.some((c) => c.is_auto));
    assert.equal((await cli(['checkpoint', 'rm', 'v9', '-s', 'demo'])).code, 1);
    assert.ok(Array.isArray(JSON.parse((await cli(['sessions', 'ls', '-s', 'demo', '--json'])).stdout)));
    assert.ok(Array.isArray(JSON.parse((await cli(['org', 'list', '--json'])).stdout)));

    assert.match((await cli(['url', '-s', 'demo'])).stdout, /^http/);
    assert.equal((await cli(['url', 'update', '--auth', 'public', '-s', 'demo'])).code, 0);
    assert.equal((JSON.parse((await cli(['url', '-s', 'demo', '--json'])).stdout) as { auth: string }).auth, 'public');
    assert.equal((await cli(['url', 'update', '--auth', 'wide-open', '-s', 'demo'])).code, 2);

    const project = join(work, 'project');
    mkdirSync(project);
    assert.equal((await cli(['use', 'demo'], { cwd: project })).code, 0);
    assert.deepEqual(JSON.parse(readFileSync(join(project, '.sprite'), 'utf8')), { sprite: 'demo' });
    mkdirSync(join(project, 'sub'));
    assert.equal(
      (await cli(['exec', '--', 'echo', 'picked from .sprite'], { cwd: join(project, 'sub') })).stdout,
      'picked from .sprite\n',
    );
    const dirInTheWay = join(work, 'other');
    mkdirSync(join(dirInTheWay, '.sprite'), { recursive: true });
    const refused = await cli(['use', 'demo'], { cwd: dirInTheWay });
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /is not a file/);

    const api = await cli(['api', '/v1/sprites/demo']);
    assert.equal((JSON.parse(api.stdout) as { name: string }).name, 'demo');
    const put = await cli(['api', '/v1/sprites/demo', '--', '-X', 'PUT', '-d', '{"labels":["via-api"]}']);
    assert.deepEqual((JSON.parse(put.stdout) as { labels: string[] }).labels, ['via-api']);
    const notFound = await cli(['api', '/v1/sprites/nope']);
    assert.equal(notFound.code, 1);
    assert.match(notFound.stdout, /sprite_not_found/);
  });

  await t.test('services through the CLI: create with output, list --json, logs, stop, delete', async () => {
    const made = await cli([
      'services',
      'create',
      'ticker',
      '-s',
      'demo',
      '--cmd',
      'sh',
      '--args',
      '-c,echo tick $N; exec sleep 1000',
      '--env',
      'N=1',
      '--duration',
      '1s',
    ]);
    assert.equal(made.code, 0, made.stderr);
    assert.match(made.stdout, /^tick 1$/m);
    assert.match(made.stderr, /\[started pid \d+\]/);
    const listed = JSON.parse((await cli(['services', 'ls', '-s', 'demo', '--json'])).stdout) as {
      name: string;
      state: { status: string };
    }[];
    assert.deepEqual(
      listed.map((x) => [x.name, x.state.status]),
      [['ticker', 'running']],
    );
    assert.match((await cli(['services', 'logs', 'ticker', '-s', 'demo', '-n', '5'])).stdout, /tick 1/);
    const stopped = await cli(['services', 'stop', 'ticker', '-s', 'demo']);
    assert.match(stopped.stderr, /\[stopping\][\s\S]*\[stopped\]/);
    assert.equal((await cli(['services', 'stop', 'ticker', '-s', 'demo'])).code, 1, 'stopping a stopped service fails');
    assert.equal((await cli(['services', 'create', 'bad', '-s', 'demo'])).code, 2, '--cmd is required');
    assert.equal((await cli(['services', 'rm', 'ticker', '-s', 'demo'])).code, 0);
  });

  await t.test('policy get and set through the CLI', async () => {
    assert.match((await cli(['policy', 'get', '-s', 'demo'])).stderr, /unrestricted/);
    assert.equal(
      (
        await cli([
          'policy',
          'set',
          '-s',
          'demo',
          '--include',
          'defaults',
          '--allow',
          'api.example.com',
          '--deny',
          'evil.example.com',
        ])
      ).code,
      0,
    );
    assert.deepEqual(JSON.parse((await cli(['policy', 'get', '-s', 'demo', '--json'])).stdout), {
      rules: [
        { include: 'defaults' },
        { domain: 'api.example.com', action: 'allow' },
        { domain: 'evil.example.com', action: 'deny' },
      ],
    });
    const bad = await cli(['policy', 'set', '-s', 'demo', '--allow', 'not a domain']);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /invalid policy/);
    assert.equal((await cli(['policy', 'set', '-s', 'demo', '--clear'])).code, 0);
    assert.deepEqual(JSON.parse((await cli(['policy', 'get', '-s', 'demo', '--json'])).stdout), { rules: [] });
  });

  await t.test('exec forwards the ports its command opens (unless --no-port-forward)', async () => {
    const port = await freePort();
    const server = `import socket; s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("0.0.0.0", ${port})); s.listen(); c,_=s.accept(); c.sendall(b"hello from the sprite"); c.close()`;
    const child = spawn(process.execPath, [CLI, 'exec', '-s', 'demo', '--', 'python3', '-c', server], {
      env: baseEnv,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let notes = '';
    child.stderr.on('data', (c: Buffer) => (notes += c.toString()));
    await pollUntil(
      () => (notes.includes(`forwarding 127.0.0.1:${port}`) ? true : null),
      20_000,
      'the forwarding notice',
    );
    const got = await new Promise<string>((done, fail) => {
      const sock = connect(port, '127.0.0.1');
      let text = '';
      sock.on('data', (c: Buffer) => (text += c.toString()));
      sock.on('close', () => done(text));
      sock.on('error', fail);
    });
    assert.equal(got, 'hello from the sprite');
    assert.equal(await new Promise((r) => child.once('exit', r)), 0);
    const off = await cli([
      'exec',
      '-s',
      'demo',
      '--no-port-forward',
      '--',
      'python3',
      '-c',
      'import socket,time; s=socket.socket(); s.bind(("0.0.0.0", 0)); s.listen(); time.sleep(1.5)',
    ]);
    assert.doesNotMatch(off.stderr, /forwarding/);
  });

  await t.test(
    'login and org list store credentials 0600; the stored org is used without the local daemon',
    async () => {
      const login = await cli(['login', d.url, '--token', d.adminToken, '-o', 'home-lab']);
      assert.equal(login.code, 0, login.stderr);
      const config = join(home, '.sprites', 'sprites.json');
      assert.equal(statSync(config).mode & 0o777, 0o600);
      const orgs = JSON.parse((await cli(['org', 'list', '--json'])).stdout) as { name: string; current: boolean }[];
      assert.ok(orgs.some((o) => o.name === 'home-lab' && o.current));
      const noLocal = { SPRITES_DATA_DIR: join(work, 'no-daemon-here') };
      assert.equal(
        (await cli(['exec', '-s', 'demo', '--', 'echo', 'via config'], { env: noLocal })).stdout,
        'via config\n',
      );
      const setup = await cli(['auth', 'setup', '--token', `ci/1/2/${d.adminToken}`, '--api-url', d.url], {
        env: noLocal,
      });
      assert.equal(setup.code, 0, setup.stderr);
      assert.equal(
        (await cli(['exec', '-o', 'ci', '-s', 'demo', '--', 'echo', 'ci org'], { env: noLocal })).stdout,
        'ci org\n',
      );
      const bad = await cli(['login', d.url, '--token', 'spr_wrong'], { env: noLocal });
      assert.equal(bad.code, 1);
      assert.match(bad.stderr, /HTTP 401/);
      rmSync(join(home, '.sprites'), { recursive: true });
      const nothing = await cli(['ls'], { env: noLocal });
      assert.equal(nothing.code, 2);
      assert.match(nothing.stderr, /no API configured: run `sprite login/);
    },
  );

  await t.test('--help of every command runs; completion scripts; unknown commands fail with a hint', async () => {
    const commands = [
      [],
      ['create'],
      ['list'],
      ['ls'],
      ['info'],
      ['destroy'],
      ['upgrade'],
      ['url'],
      ['url', 'update'],
      ['use'],
      ['exec'],
      ['x'],
      ['console'],
      ['c'],
      ['attach'],
      ['sessions'],
      ['sessions', 'list'],
      ['s', 'ls'],
      ['sessions', 'attach'],
      ['sessions', 'kill'],
      ['checkpoint'],
      ['checkpoint', 'create'],
      ['checkpoint', 'list'],
      ['checkpoint', 'ls'],
      ['checkpoint', 'info'],
      ['checkpoint', 'delete'],
      ['checkpoint', 'rm'],
      ['checkpoint', 'restore'],
      ['restore'],
      ['api'],
      ['login'],
      ['logout'],
      ['auth'],
      ['auth', 'setup'],
      ['org'],
      ['org', 'list'],
      ['completion'],
      ['services'],
      ['services', 'list'],
      ['services', 'get'],
      ['services', 'create'],
      ['services', 'start'],
      ['services', 'stop'],
      ['services', 'restart'],
      ['services', 'delete'],
      ['services', 'signal'],
      ['services', 'logs'],
      ['proxy'],
      ['policy'],
      ['policy', 'get'],
      ['policy', 'set'],
    ];
    for (const words of commands) {
      const r = await cli([...words, '--help']);
      assert.equal(r.code, 0, `sprite ${words.join(' ')} --help: ${r.stderr}`);
      assert.match(r.stdout, /Usage:\n {2}sprite /, words.join(' '));
    }
    assert.match((await cli(['exec', '--help'])).stdout, /Examples:\n {2}sprite exec -s demo -- uname -a/);
    for (const shell of ['bash', 'zsh', 'fish']) {
      const r = await cli(['completion', shell]);
      assert.equal(r.code, 0);
      assert.match(r.stdout, /checkpoint/);
    }
    execFileSync('bash', ['-n', '-c', (await cli(['completion', 'bash'])).stdout]);
    const unknown = await cli(['frobnicate']);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /unknown command "frobnicate"/);
    const badOption = await cli(['ls', '--bogus']);
    assert.equal(badOption.code, 2);
    assert.match(badOption.stderr, /unknown option --bogus/);
  });

  await t.test('a lost daemon connection ends exec with a clear message and a non-zero exit; destroy', async () => {
    const child = spawn(process.execPath, [CLI, 'exec', '-s', 'demo', '--', 'sleep', '300'], {
      env: baseEnv,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    await new Promise((r) => setTimeout(r, 1500));
    await d.stop('SIGKILL');
    const code = await new Promise<number | null>((r) => child.once('exit', r));
    assert.equal(code, 255);
    assert.match(stderr, /lost the connection/);
    await d.start();
    const gone = await cli(['destroy', 'demo']);
    assert.equal(gone.code, 0, `not a terminal: no question asked. ${gone.stderr}`);
    assert.equal((await cli(['info', 'demo'])).code, 1);
  });
});
