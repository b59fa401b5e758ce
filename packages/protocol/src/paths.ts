/**
 * The path grammar of the per-sprite API (PROTOCOL.md §4–§11): every endpoint under
 * `/v1/sprites/{name}` as one template, so the daemon, the agent and the SDK build and read
 * paths from the same table instead of each writing its own regular expressions.
 *
 * A template is a path after `/v1/sprites/{name}`; `{param}` is one path segment. Building
 * percent-encodes each parameter; parsing decodes it and refuses what no endpoint may be
 * given: empty segments, `.` and `..`, separators hidden in escapes (`%2F`, `%5C`), NUL and
 * malformed escapes.
 */

/** Every path of the API starts here. */
export const API_PREFIX = '/v1';
/** The sprite collection: `GET` lists, `POST` creates. */
export const SPRITES_PATH = '/v1/sprites';
/** The agent's liveness endpoint (inside the sprite; the daemon asks it). */
export const AGENT_HEALTH_PATH = '/v1/health';
/** Daemon-only agent endpoints: the public API never forwards `/v1/internal/`. */
export const AGENT_INTERNAL_PATHS = {
  /** `POST`: a pre-booted sprite learns its name and environment. */
  identity: '/v1/internal/identity',
  /** `POST`: which port the sprite URL reaches (starting its service if need be). */
  httpTarget: '/v1/internal/http-target',
} as const;

/** The endpoints under `/v1/sprites/{name}`, by name. */
export const SPRITE_ROUTES = {
  /** `GET` info, `PUT` update, `DELETE` (daemon). */
  sprite: '',
  /** `POST` (daemon). */
  upgrade: '/upgrade',
  /** WebSocket: a new command; `GET`: sessions; `POST`: HTTP exec (agent). */
  exec: '/exec',
  /** WebSocket: attach to a session (agent). */
  execSession: '/exec/{session}',
  /** `POST`: signal a session, NDJSON progress (agent). */
  execKill: '/exec/{session}/kill',
  /** The filesystem API, one operation per path (agent). */
  fs: '/fs/{op}',
  /** WebSocket: filesystem events (agent). */
  fsWatch: '/fs/watch',
  /** WebSocket: listening ports (agent). */
  portsWatch: '/ports/watch',
  /** WebSocket: a TCP tunnel (agent). */
  proxy: '/proxy',
  /** `GET`: services with their state (agent). `POST services/signal` is `service` named `signal`. */
  services: '/services',
  /** `GET`, `PUT`, `DELETE` one service (agent). */
  service: '/services/{service}',
  /** `POST` start/stop/restart, `GET` logs (agent). */
  serviceAction: '/services/{service}/{action}',
  /** `POST`: take a checkpoint, NDJSON progress (daemon). */
  checkpoint: '/checkpoint',
  /** `GET`: the checkpoints (daemon). */
  checkpoints: '/checkpoints',
  /** `GET`, `DELETE` one checkpoint (daemon). */
  checkpointById: '/checkpoints/{checkpoint}',
  /** `POST`: restore, NDJSON progress (daemon). */
  checkpointRestore: '/checkpoints/{checkpoint}/restore',
  /** `GET`, `POST` the egress policy (daemon). */
  networkPolicy: '/policy/network',
} as const;

export type SpriteRoute = keyof typeof SPRITE_ROUTES;

/** The routes that are WebSocket endpoints (the daemon splices them to the agent as they are). */
export const WEBSOCKET_ROUTES = [
  'exec',
  'execSession',
  'fsWatch',
  'portsWatch',
  'proxy',
] as const satisfies readonly SpriteRoute[];
export type WebSocketRoute = (typeof WEBSOCKET_ROUTES)[number];

/** Whether a parsed path is a WebSocket endpoint. */
export function isWebSocketRoute(route: SpriteRoute): route is WebSocketRoute {
  return (WEBSOCKET_ROUTES as readonly SpriteRoute[]).includes(route);
}

/** What a service action segment may be. */
export const SERVICE_ACTIONS = ['start', 'stop', 'restart', 'logs'] as const;
export type ServiceAction = (typeof SERVICE_ACTIONS)[number];

/** The parameter names of a template, as a union: `'/exec/{session}/kill'` gives `'session'`. */
type ParamNames<T extends string> = T extends `${string}{${infer P}}${infer Rest}` ? P | ParamNames<Rest> : never;

/** The parameters of a route: always the sprite's `name`, plus its template's own. */
export type SpriteRouteParams<R extends SpriteRoute> = { name: string } & {
  [P in ParamNames<(typeof SPRITE_ROUTES)[R]>]: string;
};

/** A parsed path: which route, and its parameters decoded. */
export type SpritePathMatch = { [R in SpriteRoute]: { ok: true; route: R; params: SpriteRouteParams<R> } }[SpriteRoute];

/** A path shaped like a route whose segments no endpoint may be given; `message` says which. */
export interface SpritePathProblem {
  ok: false;
  message: string;
}

/**
 * Values a parameter must have for its route to match at all (checked on the decoded value).
 * `fs/{op}` is lowercase letters, so `fs/Read` is no endpoint rather than an unknown one.
 */
const PARAM_VALUES: Partial<Record<string, RegExp>> = {
  op: /^[a-z]+$/,
  action: new RegExp(`^(?:${SERVICE_ACTIONS.join('|')})$`),
};

interface CompiledRoute {
  route: SpriteRoute;
  /** Literal segments as they are, parameters as `{ param }`. */
  segments: (string | { param: string })[];
  /** The template's parameter names in path order (not the sprite's `name`). */
  paramNames: readonly string[];
}

const COMPILED: readonly CompiledRoute[] = (Object.keys(SPRITE_ROUTES) as SpriteRoute[]).map((route) => {
  const segments = SPRITE_ROUTES[route]
    .split('/')
    .slice(1)
    .map((s) => (s.startsWith('{') ? { param: s.slice(1, -1) } : s));
  const paramNames = segments.flatMap((s) => (typeof s === 'string' ? [] : [s.param]));
  return { route, segments, paramNames };
});
const COMPILED_BY_ROUTE = new Map(COMPILED.map((c) => [c.route, c]));

/** A route's own parameter names in path order: `serviceAction` gives `service`, `action`. */
export function routeParamNames(route: SpriteRoute): readonly string[] {
  return COMPILED_BY_ROUTE.get(route)?.paramNames ?? [];
}

/**
 * Builds the path of a route: `/v1/sprites/{name}` and the template, each parameter
 * percent-encoded. It never throws: a value no server accepts is sent as is, encoded, and the
 * server's answer says what is wrong with it.
 */
export function spritePath<R extends SpriteRoute>(route: R, params: SpriteRouteParams<R>): string {
  const values = params as unknown as Record<string, string>;
  const rest = SPRITE_ROUTES[route].replace(/\{(\w+)\}/g, (_, p: string) => encodeURIComponent(values[p] ?? ''));
  return `${SPRITES_PATH}/${encodeURIComponent(params.name)}${rest}`;
}

/**
 * The route template in the `:param` style of HTTP routers (Fastify, find-my-way):
 * `/v1/sprites/:name/exec/:session/kill`.
 */
export function routerPattern(route: SpriteRoute): string {
  return `${SPRITES_PATH}/:name${SPRITE_ROUTES[route].replace(/\{(\w+)\}/g, ':$1')}`;
}

/** Why a decoded segment may not be a parameter, or null when it may. */
export function segmentProblem(value: string): string | null {
  if (value === '') return 'the path has an empty segment';
  if (value === '.' || value === '..') return `"${value}" is not a valid path segment`;
  if (/[/\\\0]/.test(value)) return 'a path segment must not contain "/", "\\" or NUL (also not percent-encoded)';
  return null;
}

/** Percent-decodes one segment; null for a malformed escape. */
function decode(segment: string): string | null {
  try {
    return decodeURIComponent(segment);
  } catch {
    return null;
  }
}

/**
 * Reads a request path (without its query). Null when it names no endpoint; a problem when
 * it has the shape of one but a segment no endpoint may be given. Where a literal segment and
 * a parameter could both match (`fs/watch`, `fs/{op}`), the literal wins.
 */
export function parseSpritePath(pathname: string): SpritePathMatch | SpritePathProblem | null {
  if (!pathname.startsWith(`${SPRITES_PATH}/`)) return null;
  const [rawName = '', ...rest] = pathname.slice(SPRITES_PATH.length + 1).split('/');
  let best: CompiledRoute | undefined;
  for (const candidate of COMPILED) {
    if (candidate.segments.length !== rest.length) continue;
    if (best && best.paramNames.length <= candidate.paramNames.length) continue;
    if (fits(candidate, rest)) best = candidate;
  }
  if (!best) return null;
  const params: Record<string, string> = {};
  const raw = [rawName, ...rest];
  const names = ['name', ...best.segments.map((s) => (typeof s === 'string' ? null : s.param))];
  for (let i = 0; i < raw.length; i++) {
    const param = names[i];
    if (!param) continue;
    const value = decode(raw[i] ?? '');
    if (value === null) return { ok: false, message: 'the request path has a malformed percent escape' };
    const problem = segmentProblem(value);
    if (problem) return { ok: false, message: problem };
    params[param] = value;
  }
  return { ok: true, route: best.route, params } as SpritePathMatch;
}

/** A path read for its shape alone: the route, and its segments still percent-encoded. */
export interface SpritePathShape<R extends SpriteRoute = SpriteRoute> {
  route: R;
  /** The sprite's name segment, raw. */
  name: string;
  /** The route's own parameters, raw. */
  params: Record<string, string>;
}

/**
 * Which of `routes` a request path names, by shape alone: literal segments as the template
 * has them, each parameter any non-empty segment, nothing decoded or judged. For a server that
 * must authenticate before it says what is wrong with a segment; `parseSpritePath` judges.
 */
export function matchSpritePathShape<R extends SpriteRoute>(
  pathname: string,
  routes: readonly R[],
): SpritePathShape<R> | null {
  if (!pathname.startsWith(`${SPRITES_PATH}/`)) return null;
  const [name = '', ...rest] = pathname.slice(SPRITES_PATH.length + 1).split('/');
  if (name === '') return null;
  for (const route of routes) {
    const compiled = COMPILED_BY_ROUTE.get(route);
    if (!compiled || compiled.segments.length !== rest.length) continue;
    const params: Record<string, string> = {};
    const fitsShape = compiled.segments.every((segment, i) => {
      const value = rest[i] ?? '';
      if (typeof segment === 'string') return value === segment;
      params[segment.param] = value;
      return value !== '';
    });
    if (fitsShape) return { route, name, params };
  }
  return null;
}

/** Whether raw segments fit a route: literals equal, parameters of an allowed value. */
function fits(candidate: CompiledRoute, rest: readonly string[]): boolean {
  return candidate.segments.every((segment, i) => {
    const raw = rest[i] ?? '';
    if (typeof segment === 'string') return raw === segment;
    const allowed = PARAM_VALUES[segment.param];
    return allowed === undefined || allowed.test(decode(raw) ?? '');
  });
}

/**
 * The stricter segment rule of what the daemon forwards to an agent (ids, service names, fs
 * operations): ASCII letters, digits, `.`, `_` and `-`, starting with a letter or digit.
 */
export const FORWARDED_SEGMENT_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
