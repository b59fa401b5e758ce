// Checkpoints a sprite, breaks something, and restores it.
//   SPRITE_TOKEN=… SPRITES_API_URL=http://127.0.0.1:7070 node examples/checkpoint.mjs [name]
import { SpritesClient } from '@sprites/sdk';

const client = new SpritesClient(process.env.SPRITE_TOKEN, { baseURL: process.env.SPRITES_API_URL });
const name = process.argv[2] ?? 'checkpoint-example';
const sprite = await client.createSprite(name);
const fs = sprite.filesystem('/home/sprite');

await fs.writeFile('work.txt', 'good state\n');
const taken = await (await sprite.createCheckpoint('known good')).done();
console.log(taken.data);
const id = /Checkpoint (\S+) created/.exec(taken.data ?? '')?.[1];

await fs.writeFile('work.txt', 'broken state\n');
for await (const message of await sprite.restoreCheckpoint(id)) console.log(`  ${message.type}: ${message.data ?? ''}`);
process.stdout.write(`after restore: ${await fs.readFile('work.txt', 'utf8')}`);

await sprite.delete();
