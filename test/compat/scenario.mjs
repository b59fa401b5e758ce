// Drives a sprite through the official JS client (@fly/sprites) under Node >= 24 and prints
// one JSON object of what it observed. test/e2e/official-js-client.test.ts asserts on it.
// SPRITES_SDK_ENTRY runs the same scenario with our SDK (a file path); the default is the official client.
const { SpritesClient } = process.env.SPRITES_SDK_ENTRY
  ? await import(new URL(`file://${process.env.SPRITES_SDK_ENTRY}`).href)
  : await import('@fly/sprites');

const { SPRITES_URL, SPRITES_TOKEN, SPRITE_NAME } = process.env;
const client = new SpritesClient(SPRITES_TOKEN, { baseURL: SPRITES_URL });
const out = {};
const step = async (name, fn) => {
  try {
    out[name] = await fn();
  } catch (e) {
    out[name] = { error: String(e?.message ?? e), exitCode: e?.exitCode, status: e?.statusCode ?? e?.status };
  }
};

await step('create', async () => {
  const s = await client.createSprite(SPRITE_NAME, {
    config: { ramMB: 512, storageGB: 1 },
    labels: ['compat'],
    environment: { FROM_JS: 'yes' },
  });
  return { name: s.name, status: s.status, labels: s.labels };
});
const sprite = client.sprite(SPRITE_NAME);
await step('get', async () => {
  const s = await client.getSprite(SPRITE_NAME);
  return { name: s.name, status: s.status, ramMB: s.config?.ramMB };
});
await step('list', async () => {
  const l = await client.listSprites({ prefix: SPRITE_NAME });
  return { names: l.sprites.map((s) => s.name), running: l.running };
});
await step('exec', async () => (await sprite.exec('echo hello world')).stdout);
await step(
  'execEnv',
  async () =>
    (await sprite.execFile('sh', ['-c', 'echo "$FROM_JS $EXTRA" && pwd'], { env: { EXTRA: 'x' }, cwd: '/tmp' })).stdout,
);
await step('exit42', async () => sprite.execFile('sh', ['-c', 'exit 42']));
await step('stdin', async () => {
  const cmd = sprite.spawn('cat');
  let text = '';
  cmd.stdout.on('data', (d) => (text += d.toString()));
  // npm-0.1.0 drops stdin written before its socket is open: wait for 'spawn' (PLATFORM §1.4).
  await new Promise((r) => cmd.once('spawn', r));
  cmd.stdin.write('piped ');
  cmd.stdin.end('through cat');
  const code = await cmd.wait();
  return { code, text };
});
await step('tty', async () => {
  const cmd = sprite.spawn('sh', ['-c', 'tty; stty size'], { tty: true, rows: 24, cols: 80 });
  let text = '';
  cmd.stdout.on('data', (d) => (text += d.toString()));
  const code = await cmd.wait();
  return { code, text };
});
await step('sessions', async () => (await sprite.listSessions()).length);
// Filesystem API (PROTOCOL §8) through SpriteFilesystem, relative to /home/sprite.
const fs = sprite.filesystem('/home/sprite');
await step('fsWriteRead', async () => {
  await fs.writeFile('proj/src/hello.txt', 'hello from js', { mode: 0o640 });
  return await fs.readFile('proj/src/hello.txt', 'utf8');
});
await step('fsStat', async () => {
  const st = await fs.stat('proj/src/hello.txt');
  return { size: st.size, mode: (st.mode & 0o777).toString(8), isFile: st.isFile(), isDir: st.isDirectory() };
});
await step('fsMkdirReaddir', async () => {
  await fs.mkdir('proj/empty', { recursive: true });
  await fs.writeJSON('proj/data.json', { a: 1 });
  const names = await fs.readdir('proj');
  const typed = (await fs.readdir('proj', { withFileTypes: true })).map(
    (d) => `${d.name}:${d.isDirectory() ? 'd' : 'f'}`,
  );
  return { names, typed, json: await fs.readJSON('proj/data.json') };
});
await step('fsExists', async () => ({ yes: await fs.exists('proj/data.json'), no: await fs.exists('proj/nope') }));
await step('fsRenameCopy', async () => {
  await fs.rename('proj/data.json', 'proj/moved.json');
  await fs.copyFile('proj/src', 'proj/src-copy', { recursive: true });
  return (await fs.readdir('proj')).sort();
});
await step('fsChmod', async () => {
  await fs.chmod('proj/moved.json', 0o600);
  return ((await fs.stat('proj/moved.json')).mode & 0o777).toString(8);
});
await step('fsChown', async () => {
  await fs.chown('proj/moved.json', { uid: 0, gid: 0, asRoot: true });
  return (await sprite.exec('stat -c %U:%G /home/sprite/proj/moved.json')).stdout;
});
await step('fsErrors', async () => {
  const codes = [];
  for (const f of [() => fs.readFile('proj/nope'), () => fs.rm('proj'), () => fs.writeFile('/etc/not-yours', 'x')]) {
    try {
      await f();
      codes.push('ok');
    } catch (e) {
      codes.push(e.code);
    }
  }
  return codes;
});
await step('fsWatch', async () => {
  const watcher = await fs.watch('proj', { recursive: true });
  const events = [];
  const done = (async () => {
    for await (const e of watcher) {
      if (e.type === 'event') events.push(`${e.event}:${e.path}`);
      if (events.some((x) => x.startsWith('remove:'))) break;
    }
  })();
  await new Promise((r) => setTimeout(r, 200));
  await fs.writeFile('proj/src/watched.txt', 'w');
  await fs.rm('proj/src/watched.txt');
  await Promise.race([done, new Promise((r) => setTimeout(r, 5000))]);
  watcher.close();
  return events;
});
await step('fsRm', async () => {
  await fs.rm('proj', { recursive: true });
  return await fs.exists('proj');
});
await step('update', async () => (await client.updateSprite(SPRITE_NAME, { labels: ['a', 'b'] })).labels);
await step('delete', async () => {
  await client.deleteSprite(SPRITE_NAME);
  return 'deleted';
});
await step('getAfterDelete', async () => client.getSprite(SPRITE_NAME));
process.stdout.write(`${JSON.stringify(out)}\n`);
