import type { HttpTransport } from './http.js';
import type { Platform, StreamKinds } from './platform.js';

/** What every per-sprite operation needs: the sprite's name, the HTTP transport, the runtime. */
export interface SpriteContext<K extends StreamKinds> {
  readonly name: string;
  readonly transport: HttpTransport;
  readonly platform: Platform<K>;
}

/** `/v1/sprites/{name}` with the name escaped. */
export function spritePath(name: string, rest = ''): string {
  return `/v1/sprites/${encodeURIComponent(name)}${rest}`;
}
