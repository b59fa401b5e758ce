/** Sent as `Sprite-Version` on every HTTP response: a plain release, so clients use path attach. */
export const SPRITE_VERSION = '0.1.0';
export const SPRITE_VERSION_HEADER = 'Sprite-Version';
export const CAPABILITIES_HEADER = 'X-Sprite-Capabilities';
