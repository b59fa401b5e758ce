// Drives a sprite through the official JS client (@fly/sprites) under Node >= 24 and prints
// one JSON object of what it observed. test/e2e/official-js-client.test.ts asserts on it.
import { SpritesClient } from '@fly/sprites';

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
  const s = await client.createSprite(SPRITE_NAME, { config: { ramMB: 512, storageGB: 1 }, labels: ['compat'], environment: { FROM_JS: 'yes' } });
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
await step('execEnv', async () => (await sprite.execFile('sh', ['-c', 'echo "$FROM_JS $EXTRA" && pwd'], { env: { EXTRA: 'x' }, cwd: '/tmp' })).stdout);
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
await step('update', async () => (await client.updateSprite(SPRITE_NAME, { labels: ['a', 'b'] })).labels);
await step('delete', async () => {
  await client.deleteSprite(SPRITE_NAME);
  return 'deleted';
});
await step('getAfterDelete', async () => client.getSprite(SPRITE_NAME));
process.stdout.write(`${JSON.stringify(out)}\n`);
