import assert from 'node:assert/strict';
import { test } from 'node:test';
import { appRequestHeaders, appResponseHeaders } from './headers.js';

test("the app never sees the daemon's credentials", () => {
  const out = appRequestHeaders(
    {
      host: 'box-acme.sprites.localhost',
      authorization: 'Bearer secret',
      cookie: 'theme=dark; sprites_session=signed; lang=en',
      accept: 'text/html',
    },
    '10.0.0.9',
    { upgrade: false, secure: false },
  );
  assert.equal(out.authorization, undefined);
  assert.equal(out.cookie, 'theme=dark; lang=en');
  assert.equal(out.accept, 'text/html');
  // Only our cookie: no Cookie header at all.
  assert.equal(
    appRequestHeaders({ cookie: 'sprites_session=x' }, '', { upgrade: false, secure: false }).cookie,
    undefined,
  );
});

test("an Authorization scheme that is not a token of ours is the app's", () => {
  const out = appRequestHeaders({ authorization: 'Basic dXNlcjpwYXNz' }, '', { upgrade: false, secure: false });
  assert.equal(out.authorization, 'Basic dXNlcjpwYXNz');
});

test('hop-by-hop headers stay behind for HTTP and pass for upgrades', () => {
  const headers = { connection: 'Upgrade', upgrade: 'websocket', te: 'trailers', 'x-app': '1' };
  const http = appRequestHeaders(headers, '', { upgrade: false, secure: false });
  assert.deepEqual([http.connection, http.upgrade, http.te, http['x-app']], [undefined, undefined, undefined, '1']);
  const ws = appRequestHeaders(headers, '', { upgrade: true, secure: false });
  assert.deepEqual([ws.connection, ws.upgrade, ws.te], ['Upgrade', 'websocket', 'trailers']);
});

test('X-Forwarded-For/-Host/-Proto say where the request came from', () => {
  const first = appRequestHeaders({ host: 'h.example:7000' }, '192.0.2.1', { upgrade: false, secure: true });
  assert.deepEqual(
    [first['x-forwarded-for'], first['x-forwarded-host'], first['x-forwarded-proto']],
    ['192.0.2.1', 'h.example:7000', 'https'],
  );
  const chained = appRequestHeaders({ 'x-forwarded-for': '198.51.100.7' }, '192.0.2.1', {
    upgrade: false,
    secure: false,
  });
  assert.deepEqual(
    [chained['x-forwarded-for'], chained['x-forwarded-host'], chained['x-forwarded-proto']],
    ['198.51.100.7, 192.0.2.1', '', 'http'],
  );
});

test("the app's answer keeps its headers, minus connection ones, with host-only cookies", () => {
  const out = appResponseHeaders({
    'content-type': 'text/plain',
    connection: 'keep-alive',
    'keep-alive': 'timeout=5',
    'set-cookie': ['a=1; Domain=sprites.localhost', 'sprites_session=forged'],
  });
  assert.deepEqual(out, { 'content-type': 'text/plain', 'set-cookie': ['a=1'] });
  assert.deepEqual(appResponseHeaders({ 'set-cookie': ['sprites_session=forged'] }), {});
});
