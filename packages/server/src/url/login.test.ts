import assert from 'node:assert/strict';
import { test } from 'node:test';
import { UrlError } from './errors.js';
import { answerLogin, type LoginDeps } from './login.js';

const TOKENS: Record<string, string> = { 'tok-a': 'org-a', 'tok-b': 'org-b' };
const sprite = { name: 'box', orgId: 'org-a' };
const deps: LoginDeps = {
  tokenOrg: (token) => Promise.resolve(TOKENS[token] ?? null),
  issueSession: (orgId) => `signed-${orgId}`,
  secure: false,
};
const noForm = () => Promise.reject(new Error('the form must not be read'));
const form = (fields: Record<string, string>) => () => Promise.resolve(new URLSearchParams(fields).toString());

test('GET shows the form, carrying a safe next path', async () => {
  const answer = await answerLogin(
    { method: 'GET', url: '/__sprites/login?next=%2Fapp%3Fx%3D1' },
    noForm,
    sprite,
    deps,
  );
  assert.equal(answer.status, 200);
  if (answer.status !== 200) return;
  assert.match(answer.html, /<h1>box<\/h1>/);
  assert.match(answer.html, /name="next" value="\/app\?x=1"/);
  const evil = await answerLogin(
    { method: 'GET', url: '/__sprites/login?next=%2F%2Fevil.example' },
    noForm,
    sprite,
    deps,
  );
  assert.ok(evil.status === 200 && evil.html.includes('name="next" value="/"'));
});

test("a token of the sprite's organization sets the login cookie and goes on to next", async () => {
  const answer = await answerLogin(
    { method: 'POST', url: '/__sprites/login' },
    form({ token: ' tok-a \n', next: '/app' }),
    sprite,
    deps,
  );
  assert.deepEqual(answer, {
    status: 303,
    location: '/app',
    cookie: 'sprites_session=signed-org-a; Path=/; Max-Age=604800; HttpOnly; SameSite=Lax',
  });
  const secure = await answerLogin({ method: 'POST' }, form({ token: 'tok-a' }), sprite, { ...deps, secure: true });
  assert.ok(secure.status === 303 && secure.cookie.endsWith('; Secure') && secure.location === '/');
});

test('a token of another organization, or none, shows the form again with a 401', async () => {
  for (const fields of [{ token: 'tok-b', next: '/app' }, { token: 'nope', next: '/app' }, { next: '/app' }] as Record<
    string,
    string
  >[]) {
    const answer = await answerLogin({ method: 'POST' }, form(fields), sprite, deps);
    assert.equal(answer.status, 401, JSON.stringify(fields));
    if (answer.status !== 401) continue;
    assert.match(answer.html, /does not belong to this sprite&#39;s organization/);
    assert.match(answer.html, /name="next" value="\/app"/);
  }
});

test('the page escapes what it shows', async () => {
  const answer = await answerLogin(
    { method: 'GET', url: '/__sprites/login?next=/"><script>' },
    noForm,
    { name: '<b>', orgId: 'o' },
    deps,
  );
  assert.ok(answer.status === 200);
  if (answer.status !== 200) return;
  assert.ok(!answer.html.includes('<script>') && !answer.html.includes('<b>'));
});

test('other methods are a 405', async () => {
  await assert.rejects(
    answerLogin({ method: 'PUT' }, noForm, sprite, deps),
    (e: unknown) => e instanceof UrlError && e.status === 405,
  );
});
