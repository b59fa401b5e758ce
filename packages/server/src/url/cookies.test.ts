import assert from 'node:assert/strict';
import { test } from 'node:test';
import { safeNext } from './login.js';
import { cookieValue, hostOnlySetCookies } from './cookies.js';

test('login redirects stay on the sprite host', () => {
  for (const bad of [
    '//evil.example',
    '/\\evil.example',
    '/\t/evil.example',
    '/\n/evil.example',
    'https://evil.example',
    'evil',
    '',
    null,
    '/%0a/x\\',
    `/${'a'.repeat(3000)}`,
  ]) {
    assert.equal(safeNext(bad), '/', JSON.stringify(bad));
  }
  assert.equal(safeNext('/app/page?x=1#top'), '/app/page?x=1#top');
  assert.equal(safeNext('/a/../b'), '/b');
});

test("apps' cookies become host-only and cannot take the login cookie's name", () => {
  const out = hostOnlySetCookies(
    [
      'a=1; Domain=sprites.localhost; Path=/',
      'b=2;domain=.sprites.localhost',
      'sprites_session=forged; Path=/',
      'c=3; HttpOnly',
    ],
    'sprites_session',
  );
  assert.deepEqual(out, ['a=1; Path=/', 'b=2', 'c=3; HttpOnly']);
  assert.deepEqual(hostOnlySetCookies(undefined, 'x'), []);
});

test('a malformed cookie escape is no cookie, not an exception', () => {
  assert.equal(cookieValue('sprites_session=%E0%A4%A', 'sprites_session'), null);
  assert.equal(cookieValue('a=1; sprites_session=v%20x', 'sprites_session'), 'v x');
});
