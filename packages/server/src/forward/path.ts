import { ErrorCode, SpriteError } from '@sprites/protocol';

/** A path segment after the sprite's name (fs op, service, action, session id): no dots-only, no separators. */
const SEGMENT = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/**
 * The path a per-sprite request is forwarded to the agent with, rebuilt from the route's
 * parts rather than passed on raw. The agent resolves `..` and reads `\` as `/` (WHATWG URL
 * rules), so a raw `fs/..\..\internal\x` would reach its daemon-only endpoints; a rebuilt
 * path can only name the endpoint the route matched. Bad segments are the caller's 400.
 */
export function agentPath(spriteName: string, rest: readonly string[], rawUrl: string): string {
  for (const part of rest) {
    if (!SEGMENT.test(part))
      throw new SpriteError(ErrorCode.BadRequest, `"${part.slice(0, 80)}" is not a valid path segment here`);
  }
  const q = rawUrl.indexOf('?');
  const query = q >= 0 ? rawUrl.slice(q) : '';
  return `/v1/sprites/${encodeURIComponent(spriteName)}${rest.map((p) => `/${p}`).join('')}${query}`;
}

/** A percent-decoded path segment; a malformed escape is the caller's 400, never a 5xx. */
export function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new SpriteError(ErrorCode.BadRequest, 'the request path has a malformed percent escape');
  }
}
