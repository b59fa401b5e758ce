import {
  ErrorCode,
  FORWARDED_SEGMENT_PATTERN,
  SPRITE_ROUTES,
  SPRITES_PATH,
  spritePath,
  SpriteError,
  WEBSOCKET_ROUTES,
  type SpriteRoute,
  type SpriteRouteParams,
  type WebSocketRoute,
} from '@sprites/protocol';

/** The parameter names of a route, in path order: `serviceAction` gives `service`, `action`. */
function paramNames(route: SpriteRoute): string[] {
  return [...SPRITE_ROUTES[route].matchAll(/\{(\w+)\}/g)].map((m) => m[1] ?? '');
}

/**
 * The path a per-sprite request is forwarded to the agent with, rebuilt from the route and its
 * parameters rather than passed on raw. The agent resolves `..` and reads `\` as `/` (WHATWG
 * URL rules), so a raw `fs/..\..\internal\x` would reach its daemon-only endpoints; a rebuilt
 * path can only name the endpoint the route matched. Parameters other than the sprite's name
 * must fit the forwarded-segment rule; one that does not is the caller's 400.
 */
export function agentPath<R extends SpriteRoute>(route: R, params: SpriteRouteParams<R>, rawUrl: string): string {
  const values = params as unknown as Record<string, string>;
  for (const param of paramNames(route)) {
    const value = values[param] ?? '';
    if (!FORWARDED_SEGMENT_PATTERN.test(value))
      throw new SpriteError(ErrorCode.BadRequest, `"${value.slice(0, 80)}" is not a valid path segment here`);
  }
  const q = rawUrl.indexOf('?');
  const query = q >= 0 ? rawUrl.slice(q) : '';
  return `${spritePath(route, params)}${query}`;
}

/** A WebSocket request path read for its shape: the route, and its segments still percent-encoded. */
export interface WebSocketPath {
  route: WebSocketRoute;
  /** The sprite's name segment, raw. */
  name: string;
  /** The route's own parameters (a session id), raw. */
  params: Record<string, string>;
}

/**
 * Which WebSocket endpoint a request path names, by shape alone: literal segments as the
 * route table has them, each parameter any non-empty segment. Unlike `parseSpritePath` it
 * does not judge the parameters: the daemon decodes and checks them only after it has
 * authenticated the caller and looked up the sprite (a stranger gets 401, an unknown sprite
 * 404), the same order as on the HTTP endpoints.
 */
export function webSocketPath(pathname: string): WebSocketPath | null {
  if (!pathname.startsWith(`${SPRITES_PATH}/`)) return null;
  const [name = '', ...rest] = pathname.slice(SPRITES_PATH.length + 1).split('/');
  if (name === '') return null;
  for (const route of WEBSOCKET_ROUTES) {
    const template = SPRITE_ROUTES[route].split('/').slice(1);
    if (template.length !== rest.length) continue;
    const params: Record<string, string> = {};
    const fits = template.every((segment, i) => {
      const value = rest[i] ?? '';
      if (!segment.startsWith('{')) return value === segment;
      params[segment.slice(1, -1)] = value;
      return value !== '';
    });
    if (fits) return { route, name, params };
  }
  return null;
}

/** A percent-decoded path segment; a malformed escape is the caller's 400, never a 5xx. */
export function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new SpriteError(ErrorCode.BadRequest, 'the request path has a malformed percent escape');
  }
}
