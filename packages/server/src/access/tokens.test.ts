import assert from 'node:assert/strict';
import { test } from 'node:test';
import { tokenProtocols } from '@sprites/protocol';
import { tokenFrom, tokenFromProtocols } from './tokens.js';

test('a token rides as Bearer or FlyV1, any case, nothing else', () => {
  assert.equal(tokenFrom('Bearer abc'), 'abc');
  assert.equal(tokenFrom('bearer abc  '), 'abc');
  assert.equal(tokenFrom('FlyV1 fm2_x'), 'fm2_x');
  for (const header of [undefined, '', 'Bearer', 'Bearer a b', 'Basic abc', 'abc']) {
    assert.equal(tokenFrom(header), null, String(header));
  }
});

test("a browser's WebSocket token is taken out of the offered sub-protocols", () => {
  const encoded = Buffer.from('secret-token').toString('base64url');
  assert.deepEqual(tokenFromProtocols(`sprites, sprites.bearer.${encoded}`), {
    token: 'secret-token',
    rest: 'sprites',
  });
  // Alone, the settled sub-protocol is offered in its place.
  assert.deepEqual(tokenFromProtocols(`sprites.bearer.${encoded}`), { token: 'secret-token', rest: 'sprites' });
  assert.equal(tokenFromProtocols('sprites, chat'), null);
  assert.equal(tokenFromProtocols('sprites.bearer.not+base64url'), null);
  assert.equal(tokenFromProtocols(undefined), null);
});

test('what the protocol offers for a token is what the daemon takes out', () => {
  const token = 'tök/en+with=odd chars';
  assert.deepEqual(tokenFromProtocols(tokenProtocols(token).join(', ')), { token, rest: 'sprites' });
  // The other sub-protocols reach the agent in the order they were offered.
  const [, carrier] = tokenProtocols(token);
  assert.deepEqual(tokenFromProtocols(`chat, ${carrier}, sprites`), { token, rest: 'chat, sprites' });
});
