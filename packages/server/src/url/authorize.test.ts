import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mayReach, type UrlAuthDeps } from './authorize.js';

const ORG = 'org-a';
const privateSprite = { orgId: ORG, urlSettings: { auth: 'sprite' as const } };
const publicSprite = { orgId: ORG, urlSettings: { auth: 'public' as const } };

const TOKENS: Record<string, string> = { 'tok-a': 'org-a', 'tok-b': 'org-b' };

/** Tokens `tok-a` (org-a) and `tok-b` (org-b); cookies `ck-a` and `ck-b` likewise. Records lookups. */
function fakes() {
  const looked: string[] = [];
  const deps: UrlAuthDeps = {
    tokenOrg: (token) => {
      looked.push(token);
      return Promise.resolve(TOKENS[token] ?? null);
    },
    sessionOrg: (cookie) => ({ 'ck-a': 'org-a', 'ck-b': 'org-b' })[cookie] ?? null,
  };
  return { deps, looked };
}

test('a public URL asks for nothing and looks nothing up', async () => {
  const { deps, looked } = fakes();
  assert.equal(await mayReach(publicSprite, {}, deps), true);
  assert.equal(await mayReach(publicSprite, { authorization: 'Bearer tok-b' }, deps), true);
  assert.deepEqual(looked, []);
});

test("a private URL takes a bearer token of the sprite's organization", async () => {
  const { deps, looked } = fakes();
  assert.equal(await mayReach(privateSprite, { authorization: 'Bearer tok-a' }, deps), true);
  assert.equal(await mayReach(privateSprite, { authorization: 'FlyV1 tok-a' }, deps), true);
  assert.equal(await mayReach(privateSprite, { authorization: 'bearer tok-a' }, deps), true);
  assert.deepEqual(looked, ['tok-a', 'tok-a', 'tok-a']);
});

test("a private URL takes a login cookie of the sprite's organization", async () => {
  const { deps } = fakes();
  assert.equal(await mayReach(privateSprite, { cookie: 'theme=dark; sprites_session=ck-a' }, deps), true);
  assert.equal(await mayReach(privateSprite, { cookie: 'sprites_session=ck-b' }, deps), false);
  assert.equal(await mayReach(privateSprite, { cookie: 'other_session=ck-a' }, deps), false);
});

test('no credentials, unknown ones, or those of another organization are refused', async () => {
  const { deps } = fakes();
  for (const credentials of [
    {},
    { authorization: 'Bearer tok-b' },
    { authorization: 'Bearer nope' },
    { authorization: 'Basic dXNlcjpwYXNz' },
    { authorization: 'Bearer' },
    { cookie: 'sprites_session=forged' },
  ]) {
    assert.equal(await mayReach(privateSprite, credentials, deps), false, JSON.stringify(credentials));
  }
});

test("another organization's token does not spoil a valid login cookie", async () => {
  const { deps } = fakes();
  assert.equal(
    await mayReach(privateSprite, { authorization: 'Bearer tok-b', cookie: 'sprites_session=ck-a' }, deps),
    true,
  );
  // An app's own Authorization scheme is not a token of ours: the cookie decides.
  assert.equal(await mayReach(privateSprite, { authorization: 'Basic x', cookie: 'sprites_session=ck-a' }, deps), true);
});
