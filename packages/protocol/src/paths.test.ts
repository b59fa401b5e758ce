import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseDuration } from './duration.js';
import {
  FORWARDED_SEGMENT_PATTERN,
  isWebSocketRoute,
  matchSpritePathShape,
  parseSpritePath,
  routeParamNames,
  routerPattern,
  SPRITE_ROUTES,
  spritePath,
  WEBSOCKET_ROUTES,
  type SpritePathMatch,
  type SpriteRoute,
} from './paths.js';
import { splitTokenProtocols, tokenProtocols } from './websocket.js';

/** One example of every route, with the path it is built into. */
const EXAMPLES: { [R in SpriteRoute]: [Extract<SpritePathMatch, { route: R }>['params'], string] } = {
  sprite: [{ name: 'box' }, '/v1/sprites/box'],
  upgrade: [{ name: 'box' }, '/v1/sprites/box/upgrade'],
  exec: [{ name: 'box' }, '/v1/sprites/box/exec'],
  execSession: [{ name: 'box', session: '17' }, '/v1/sprites/box/exec/17'],
  execKill: [{ name: 'box', session: 'a b' }, '/v1/sprites/box/exec/a%20b/kill'],
  fs: [{ name: 'box', op: 'read' }, '/v1/sprites/box/fs/read'],
  fsWatch: [{ name: 'box' }, '/v1/sprites/box/fs/watch'],
  portsWatch: [{ name: 'box' }, '/v1/sprites/box/ports/watch'],
  proxy: [{ name: 'box' }, '/v1/sprites/box/proxy'],
  services: [{ name: 'box' }, '/v1/sprites/box/services'],
  service: [{ name: 'box', service: 'web' }, '/v1/sprites/box/services/web'],
  serviceAction: [{ name: 'box', service: 'web', action: 'logs' }, '/v1/sprites/box/services/web/logs'],
  checkpoint: [{ name: 'box' }, '/v1/sprites/box/checkpoint'],
  checkpoints: [{ name: 'box' }, '/v1/sprites/box/checkpoints'],
  checkpointById: [{ name: 'box', checkpoint: 'v3' }, '/v1/sprites/box/checkpoints/v3'],
  checkpointRestore: [{ name: 'box', checkpoint: 'v3' }, '/v1/sprites/box/checkpoints/v3/restore'],
  networkPolicy: [{ name: 'box' }, '/v1/sprites/box/policy/network'],
};

test('every route builds its path and parses back to itself', () => {
  assert.deepEqual(Object.keys(EXAMPLES).sort(), Object.keys(SPRITE_ROUTES).sort());
  for (const route of Object.keys(EXAMPLES) as SpriteRoute[]) {
    const [params, path] = EXAMPLES[route];
    assert.equal(spritePath(route, params as never), path, route);
    assert.deepEqual(parseSpritePath(path), { ok: true, route, params }, route);
  }
});

test('parameters are percent-encoded when built and decoded when parsed', () => {
  const path = spritePath('execKill', { name: 'my box', session: 'ü?#&' });
  assert.equal(path, '/v1/sprites/my%20box/exec/%C3%BC%3F%23%26/kill');
  assert.deepEqual(parseSpritePath(path), {
    ok: true,
    route: 'execKill',
    params: { name: 'my box', session: 'ü?#&' },
  });
});

test('a literal segment wins over a parameter; parameters with fixed values match only those', () => {
  assert.equal(parseSpritePath('/v1/sprites/box/fs/watch')?.ok && 'fsWatch', 'fsWatch');
  // fs operations are lowercase words; anything else is no endpoint at all.
  assert.equal(parseSpritePath('/v1/sprites/box/fs/Read'), null);
  assert.equal(parseSpritePath('/v1/sprites/box/fs/read-all'), null);
  // Only start/stop/restart/logs are service actions; a two-segment name is no endpoint.
  assert.equal(parseSpritePath('/v1/sprites/box/services/web/pause'), null);
  // One segment after services is always a service name, also one spelled like an action.
  assert.deepEqual(parseSpritePath('/v1/sprites/box/services/logs'), {
    ok: true,
    route: 'service',
    params: { name: 'box', service: 'logs' },
  });
  // exec/kill attaches to a session named "kill", as the agent always read it.
  assert.deepEqual(parseSpritePath('/v1/sprites/box/exec/kill'), {
    ok: true,
    route: 'execSession',
    params: { name: 'box', session: 'kill' },
  });
});

test('paths that name no endpoint give null', () => {
  for (const path of [
    '/',
    '/v1/sprites',
    '/v1/spritesbox/exec',
    '/v2/sprites/box/exec',
    '/v1/sprites/box/exec/1/kill/now',
    '/v1/sprites/box/ports',
    '/v1/sprites/box/fs',
    '/v1/sprites/box/EXEC',
    '/v1/sprites/box/internal/identity',
  ])
    assert.equal(parseSpritePath(path), null, path);
});

test('segments no endpoint may be given are a problem, not a match', () => {
  for (const path of [
    '/v1/sprites/', // empty name
    '/v1/sprites//exec',
    '/v1/sprites/box/exec/', // empty session id
    '/v1/sprites/box/services//start',
    '/v1/sprites/../exec',
    '/v1/sprites/box/exec/..',
    '/v1/sprites/box/exec/./kill',
    '/v1/sprites/box/exec/%2e%2e', // a dot-dot spelled as escapes
    '/v1/sprites/a%2Fb/exec', // an encoded slash
    '/v1/sprites/box/services/a%2fb',
    '/v1/sprites/box/checkpoints/a%5Cb', // an encoded backslash
    '/v1/sprites/box/exec/a%00b', // NUL
    '/v1/sprites/box/exec/%E0%A4', // malformed escape
    '/v1/sprites/%zz',
  ]) {
    const parsed = parseSpritePath(path);
    assert.ok(parsed && !parsed.ok, `${path}: ${JSON.stringify(parsed)}`);
    assert.ok(parsed.message.length > 0);
  }
});

test('the WebSocket routes are the ones the daemon splices to the agent', () => {
  const ws = (path: string) => {
    const parsed = parseSpritePath(path);
    return parsed?.ok === true && isWebSocketRoute(parsed.route);
  };
  for (const path of ['/exec', '/exec/3', '/fs/watch', '/ports/watch', '/proxy'])
    assert.ok(ws(`/v1/sprites/b${path}`), path);
  for (const path of ['', '/exec/3/kill', '/fs/read', '/services', '/checkpoints'])
    assert.ok(!ws(`/v1/sprites/b${path}`), path);
});

test('a path read by shape names its route with raw segments, judging none of them', () => {
  assert.deepEqual(matchSpritePathShape('/v1/sprites/my%20box/exec/%2e%2e', WEBSOCKET_ROUTES), {
    route: 'execSession',
    name: 'my%20box',
    params: { session: '%2e%2e' },
  });
  assert.deepEqual(matchSpritePathShape('/v1/sprites/a/fs/watch', WEBSOCKET_ROUTES), {
    route: 'fsWatch',
    name: 'a',
    params: {},
  });
  for (const path of ['/v1/sprites//exec', '/v1/sprites/a/exec/', '/v1/sprites/a/fs/read', '/v1/other/a/exec'])
    assert.equal(matchSpritePathShape(path, WEBSOCKET_ROUTES), null, path);
  assert.deepEqual(routeParamNames('serviceAction'), ['service', 'action']);
  assert.deepEqual(routeParamNames('sprite'), []);
});

test('router patterns follow the table', () => {
  assert.equal(routerPattern('execKill'), '/v1/sprites/:name/exec/:session/kill');
  assert.equal(routerPattern('sprite'), '/v1/sprites/:name');
  assert.equal(routerPattern('serviceAction'), '/v1/sprites/:name/services/:service/:action');
});

test('the forwarded-segment rule refuses what the agent would resolve differently', () => {
  for (const ok of ['read', 'v1', 'a.b_c-d', '17']) assert.ok(FORWARDED_SEGMENT_PATTERN.test(ok), ok);
  for (const bad of ['', '.', '..', '.hidden', 'a/b', 'a\\b', 'x'.repeat(129), 'é']) {
    assert.ok(!FORWARDED_SEGMENT_PATTERN.test(bad), bad);
  }
});

test('durations are Go duration strings or seconds', () => {
  assert.equal(parseDuration('10s'), 10_000);
  assert.equal(parseDuration('1m30s'), 90_000);
  assert.equal(parseDuration('250ms'), 250);
  assert.equal(parseDuration('1.5h'), 5_400_000);
  assert.equal(parseDuration('2'), 2000);
  assert.equal(parseDuration('0'), 0);
  for (const bad of ['', 's', '10 s', '-1s', '1d', '1s2', 'ms']) assert.equal(parseDuration(bad), null, bad);
});

test('a token rides a sub-protocol and comes back out of the header', () => {
  const [plain, carrier] = tokenProtocols('tok/en+ü');
  assert.equal(plain, 'sprites');
  assert.match(carrier, /^sprites\.bearer\.[A-Za-z0-9_-]+$/);
  const split = splitTokenProtocols(`${plain}, ${carrier}`);
  assert.equal(split?.rest, 'sprites');
  assert.equal(Buffer.from(split?.encoded ?? '', 'base64url').toString('utf8'), 'tok/en+ü');
  assert.deepEqual(splitTokenProtocols(`${carrier}, other`), { encoded: carrier.slice(15), rest: 'other' });
  assert.equal(splitTokenProtocols('sprites, sprites.bearer.a=b'), null);
  assert.equal(splitTokenProtocols('sprites'), null);
  assert.equal(splitTokenProtocols(undefined), null);
});
