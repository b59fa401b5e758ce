/**
 * Sprites SDK for Node ≥ 20, Bun and Deno: commands' stdio are `node:stream` streams and
 * binary results are Buffers. Browsers get `@sprites/sdk/browser` (web streams) through the
 * package's `browser` condition.
 *
 * @example
 * ```ts
 * import { SpritesClient } from '@sprites/sdk';
 * const client = new SpritesClient(process.env.SPRITE_TOKEN!, { baseURL: 'http://127.0.0.1:7070' });
 * const sprite = await client.createSprite('demo');
 * console.log((await sprite.exec('uname -a')).stdout);
 * ```
 */
import { SpritesClient as CoreClient, type ClientOptions } from './client.js';
import { nodePlatform } from './node/platform.js';
import type { NodeStreamKinds } from './node/kinds.js';

export * from './shared.js';
export type { ProxySession, TunnelSocket } from './node/proxy.js';

/** The client, with Node streams. */
export class SpritesClient extends CoreClient<NodeStreamKinds> {
  constructor(token: string, options: ClientOptions = {}) {
    super(token, options, nodePlatform);
  }
}
