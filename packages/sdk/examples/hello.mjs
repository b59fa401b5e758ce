// Creates a sprite, runs commands in it, writes and reads a file, then deletes it.
//   SPRITE_TOKEN=… SPRITES_API_URL=http://127.0.0.1:7070 node examples/hello.mjs [name]
import { SpritesClient } from '@sprites/sdk';

const client = new SpritesClient(process.env.SPRITE_TOKEN, { baseURL: process.env.SPRITES_API_URL });
const name = process.argv[2] ?? 'hello-example';
const sprite = await client.createSprite(name, { labels: ['example'] });
console.log(`created ${sprite.name} (${sprite.status})`);

const { stdout } = await sprite.exec('uname -sr && whoami');
process.stdout.write(stdout);

const fs = sprite.filesystem('/home/sprite');
await fs.writeFile('greeting.txt', 'hello from the SDK\n');
process.stdout.write(await fs.readFile('greeting.txt', 'utf8'));

const count = await sprite.command('wc', ['-c'], { stdin: 'twelve bytes' }).output();
console.log(`wc counted ${count.toString().trim()} bytes`);

await sprite.delete();
console.log(`deleted ${name}`);
