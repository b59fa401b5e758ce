// One scenario for our SDK on every runtime (Node 24, Bun, Deno, a browser): it uses only
// what both flavours offer (no Node streams) and returns what it observed as plain JSON.
// test/e2e/sdk-runtimes.test.ts runs it and compares.
export async function scenario(SpritesClient, { url, token, name }) {
  const out = {};
  const step = async (key, fn) => {
    try {
      out[key] = await fn();
    } catch (e) {
      out[key] = { error: String(e?.message ?? e), name: e?.name, status: e?.statusCode };
    }
  };
  const client = new SpritesClient(token, { baseURL: url });
  await step('create', async () => {
    const s = await client.createSprite(name, { config: { ramMB: 256, storageGB: 1 }, labels: ['rt'] });
    return { name: s.name, status: s.status, labels: s.labels, created: s.createdAt instanceof Date };
  });
  const sprite = client.sprite(name);
  await step('exec', async () => (await sprite.exec('echo "a  b" | tr a-z A-Z')).stdout);
  await step('stdinInput', async () => (await sprite.execFile('cat', [], { input: 'piped in' })).stdout);
  await step('noStdin', async () => (await sprite.execFile('cat')).exitCode);
  await step('exitCode', async () => {
    try {
      await sprite.execFile('sh', ['-c', 'exit 42']);
      return 'no error';
    } catch (e) {
      return e.exitCode;
    }
  });
  await step('ttyExit', async () => {
    try {
      await sprite.command('sh', ['-c', 'tty >/dev/null && exit 7'], { tty: true }).run();
      return 0;
    } catch (e) {
      return e.code;
    }
  });
  await step('output', async () => (await sprite.command('seq', ['1', '20000']).output()).length);
  await step('ports', async () => {
    const cmd = sprite.command('python3', [
      '-c',
      'import socket,time; s=socket.socket(); s.bind(("127.0.0.1",8125)); s.listen(); time.sleep(2)',
    ]);
    const ports = [];
    cmd.on('port', (p) => ports.push(`${p.type}:${p.port}`));
    await cmd.run();
    return ports.includes('port_opened:8125');
  });
  await step('fs', async () => {
    const fs = sprite.filesystem('/home/sprite');
    await fs.writeFile('rt/x.txt', 'runtime');
    const text = await fs.readFile('rt/x.txt', 'utf8');
    const bytes = await fs.readFile('rt/x.txt');
    const names = await fs.readdir('rt');
    const dir = (await fs.stat('rt')).isDirectory();
    let code = 'none';
    try {
      await fs.readFile('rt/nope');
    } catch (e) {
      code = e.code;
    }
    return { text, length: bytes.length, names, dir, code };
  });
  await step('checkpoint', async () => {
    const done = await (await sprite.createCheckpoint('rt')).done();
    const [newest] = await sprite.listCheckpoints();
    return { complete: done.type, comment: newest?.comment };
  });
  await step('abort', async () => {
    const controller = new AbortController();
    const cmd = sprite.command('sleep', ['30'], { signal: controller.signal });
    await cmd.start();
    setTimeout(() => controller.abort(), 100);
    try {
      await cmd.wait();
      return 'finished';
    } catch (e) {
      return e.name;
    }
  });
  await step('sessions', async () => Array.isArray(await sprite.listSessions()));
  await step('delete', async () => {
    await client.deleteSprite(name);
    return 'deleted';
  });
  await step('getAfterDelete', async () => {
    try {
      await client.getSprite(name);
      return 'found';
    } catch (e) {
      return e.statusCode;
    }
  });
  return out;
}
