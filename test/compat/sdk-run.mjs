// Runs sdk-scenario.mjs with our SDK under whatever runtime executes this file (node, bun,
// deno) and prints the result as one JSON line. SPRITES_SDK_ENTRY is the SDK's entry file.
/* global Deno -- defined when deno runs this file */
import { pathToFileURL } from 'node:url';
import { scenario } from './sdk-scenario.mjs';

const env = typeof Deno !== 'undefined' ? Deno.env.toObject() : process.env;
const { SpritesClient } = await import(pathToFileURL(env.SPRITES_SDK_ENTRY).href);
const result = await scenario(SpritesClient, { url: env.SPRITES_URL, token: env.SPRITES_TOKEN, name: env.SPRITE_NAME });
console.log(JSON.stringify(result));
