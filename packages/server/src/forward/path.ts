import {
  ErrorCode,
  FORWARDED_SEGMENT_PATTERN,
  matchSpritePathShape,
  routeParamNames,
  spritePath,
  SpriteError,
  WEBSOCKET_ROUTES,
  type SpritePathShape,
  type SpriteRoute,
  type SpriteRouteParams,
  type WebSocketRoute,
} from '@sprites/protocol';

/**
 * The path a per-sprite request is forwarded to the agent with, rebuilt from the route and its
 * parameters rather than passed on raw. The agent resolves `..` and reads `\` as `/` (WHATWG
 * URL rules), so a raw `fs/..\..\internal\x` would reach its daemon-only endpoints; a rebuilt
 * path can only name the endpoint the route matched. Parameters other than the sprite's name
 * must fit the forwarded-segment rule; one that does not is the caller's 400.
 */
export function agentPath<R extends SpriteRoute>(route: R, params: SpriteRouteParams<R>, rawUrl: string): string {
  const values = params as unknown as Record<string, string>;
  for (const param of routeParamNames(route)) {
    const value = values[param] ?? '';
    if (!FORWARDED_SEGMENT_PATTERN.test(value))
      throw new SpriteError(ErrorCode.BadRequest, `"${value.slice(0, 80)}" is not a valid path segment here`);
  }
  const q = rawUrl.indexOf('?');
  const query = q >= 0 ? rawUrl.slice(q) : '';
  return `${spritePath(route, params)}${query}`;
}

/** A WebSocket request path read for its shape: the route, and its segments still percent-encoded. */
export type WebSocketPath = SpritePathShape<WebSocketRoute>;

/**
 * Which WebSocket endpoint a request path names, by shape alone (`matchSpritePathShape`).
 * Unlike `parseSpritePath` it does not judge the parameters: the daemon decodes and checks
 * them only after it has authenticated the caller and looked up the sprite (a stranger gets
 * 401, an unknown sprite 404), the same order as on the HTTP endpoints.
 */
export function webSocketPath(pathname: string): WebSocketPath | null {
  return matchSpritePathShape(pathname, WEBSOCKET_ROUTES);
}

/** A percent-decoded path segment; a malformed escape is the caller's 400, never a 5xx. */
export function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new SpriteError(ErrorCode.BadRequest, 'the request path has a malformed percent escape');
  }
}
