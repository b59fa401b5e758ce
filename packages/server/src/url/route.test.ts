import assert from 'node:assert/strict';
import { test } from 'node:test';
import { UrlError } from './errors.js';
import { hostName, noSpriteAt, routeRequest, routeUpgrade, spriteLabel } from './route.js';

test('the Host header is parsed without port and case; IPv6 literals stay bracketed', () => {
  assert.equal(hostName('Box-Acme.Sprites.Localhost:8080'), 'box-acme.sprites.localhost');
  assert.equal(hostName(' box-acme.sprites.localhost '), 'box-acme.sprites.localhost');
  assert.equal(hostName('[::1]:7000'), '[::1]');
  assert.equal(hostName(undefined), '');
});

test('a sprite URL is one label under the domain; anything else is the API', () => {
  const domain = 'sprites.localhost';
  assert.equal(spriteLabel('box-acme.sprites.localhost:7000', domain), 'box-acme');
  assert.equal(spriteLabel('BOX-ACME.sprites.localhost', domain), 'box-acme');
  for (const host of [
    'sprites.localhost',
    'localhost:7000',
    '127.0.0.1:7000',
    'a.b.sprites.localhost',
    'box_acme.sprites.localhost',
    'box-acme.sprites.localhost.evil.example',
    'box-acmesprites.localhost',
    '.sprites.localhost',
    undefined,
  ]) {
    assert.equal(spriteLabel(host, domain), null, String(host));
  }
});

test('a Host that names no sprite is a 404 that says what a sprite URL looks like', () => {
  const e = noSpriteAt('nope.sprites.localhost', 'sprites.localhost');
  assert.ok(e instanceof UrlError);
  assert.equal(e.status, 404);
  assert.match(e.message, /nope\.sprites\.localhost.*<sprite>-<organization>\.sprites\.localhost/);
  assert.ok(noSpriteAt('x'.repeat(1000), 'd').message.length < 400);
});

/** A credentials check that records whether it was asked. */
function allowedIs(answer: boolean) {
  const check = () => {
    check.calls++;
    return Promise.resolve(answer);
  };
  check.calls = 0;
  return check;
}

test('the login path is served on every sprite host without asking for credentials', async () => {
  for (const url of ['/__sprites/login', '/__sprites/login?next=%2Fapp']) {
    const allowed = allowedIs(false);
    assert.deepEqual(await routeRequest({ method: 'POST', url }, 'box', allowed), { kind: 'login' });
    assert.equal(allowed.calls, 0);
  }
  // Only the exact path: a look-alike goes to the app (or the login check).
  assert.equal((await routeRequest({ url: '/__sprites/login/x' }, 'box', allowedIs(true))).kind, 'proxy');
});

test('an allowed request goes to the app', async () => {
  const allowed = allowedIs(true);
  assert.deepEqual(await routeRequest({ method: 'GET', url: '/x?y=1' }, 'box', allowed), { kind: 'proxy' });
  assert.equal(allowed.calls, 1);
});

test('a browser without a login is redirected to the form and back to where it was going', async () => {
  const route = await routeRequest(
    { method: 'GET', url: '/app/page?x=1&y=2', accept: 'text/html,application/xhtml+xml' },
    'box',
    allowedIs(false),
  );
  assert.deepEqual(route, { kind: 'redirect', location: '/__sprites/login?next=%2Fapp%2Fpage%3Fx%3D1%26y%3D2' });
});

test('anything else without a login is a 401 naming both ways in', async () => {
  for (const head of [
    { method: 'GET', url: '/api', accept: 'application/json' },
    { method: 'GET', url: '/api' },
    { method: 'POST', url: '/form', accept: 'text/html' },
  ]) {
    const route = await routeRequest(head, 'box', allowedIs(false));
    assert.equal(route.kind, 'refuse', JSON.stringify(head));
    if (route.kind !== 'refuse') continue;
    assert.equal(route.error.status, 401);
    assert.match(route.error.message, /sprite box is private.*Authorization: Bearer.*\/__sprites\/login/);
  }
});

test('a WebSocket goes to the app when allowed and is refused otherwise, never redirected', async () => {
  assert.deepEqual(await routeUpgrade('box', allowedIs(true)), { kind: 'proxy' });
  const refused = await routeUpgrade('box', allowedIs(false));
  assert.equal(refused.kind, 'refuse');
  if (refused.kind === 'refuse') {
    assert.equal(refused.error.status, 401);
    assert.equal(refused.error.message, 'sprite box is private to its organization');
  }
});
