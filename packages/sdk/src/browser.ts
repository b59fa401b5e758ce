/**
 * Sprites SDK for browsers (and any runtime with fetch, WebSocket and web streams):
 * commands' stdio are WHATWG streams and binary results Uint8Arrays. WebSockets carry the
 * token as a sub-protocol (a browser cannot set their headers); the server accepts it.
 */
import { SpritesClient as CoreClient, type ClientOptions } from './client.js';
import { browserPlatform } from './browser/platform.js';
import type { WebStreamKinds } from './platform.js';
import type { Cmd } from './exec/cmd.js';
import type { SpriteFilesystem } from './fs/filesystem.js';
import type { Sprite } from './sprite.js';

export * from './shared.js';

/** The client, with web streams. */
export class SpritesClient extends CoreClient<WebStreamKinds> {
  constructor(token: string, options: ClientOptions = {}) {
    super(token, options, browserPlatform);
  }
}

/** A sprite handle of the browser flavour. */
export type BrowserSprite = Sprite<WebStreamKinds>;
/** A command of the browser flavour (web streams). */
export type BrowserCmd = Cmd<WebStreamKinds>;
/** A filesystem of the browser flavour. */
export type BrowserFilesystem = SpriteFilesystem<WebStreamKinds>;
