import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startTestDaemon } from '../helpers/daemon.js';
import { execInSprite } from '../helpers/exec.js';

test("organization A's token gets 404 for organization B's sprites on every endpoint", async (t) => {
  const d = await startTestDaemon(t);
  const mkOrg = async (name: string) => {
    const org = await d.api('POST', '/v1/organizations', { name });
    assert.equal(org.status, 201, org.text);
    const tok = await d.api<{ token: string }>('POST', `/v1/organizations/${name}/tokens`, { description: 'test' });
    assert.equal(tok.status, 201, tok.text);
    assert.match(tok.body.token, /^spr_/);
    return tok.body.token;
  };
  const tokenA = await mkOrg('org-a');
  const tokenB = await mkOrg('org-b');
  d.orgTokens.push(tokenA, tokenB);
  await d.createSprite('b-only', undefined, tokenB);

  const asA = (method: string, path: string, body?: unknown) => d.api<{ error: string }>(method, path, body, { token: tokenA });
  for (const [method, path, body] of [
    ['GET', '/v1/sprites/b-only', undefined],
    ['PUT', '/v1/sprites/b-only', { labels: ['x'] }],
    ['POST', '/v1/sprites/b-only/upgrade', undefined],
    ['DELETE', '/v1/sprites/b-only', undefined],
  ] as const) {
    const r = await asA(method, path, body);
    assert.equal(r.status, 404, `${method} ${path} as org A`);
    assert.equal(r.body.error, 'sprite_not_found');
  }
  await assert.rejects(execInSprite(d.url, tokenA, 'b-only', ['true']), (e: Error & { status?: number }) => e.status === 404);
  const listA = await d.api<{ sprites: unknown[] }>('GET', '/v1/sprites', undefined, { token: tokenA });
  assert.deepEqual(listA.body.sprites, []);

  // B still has it, untouched; org A may reuse the name for its own sprite.
  const asB = await d.api<{ labels: string[]; organization: string }>('GET', '/v1/sprites/b-only', undefined, { token: tokenB });
  assert.equal(asB.status, 200);
  assert.deepEqual(asB.body.labels, []);
  assert.equal(asB.body.organization, 'org-b');
  assert.equal((await execInSprite(d.url, tokenB, 'b-only', ['echo', 'mine'])).stdout, 'mine\n');
  await d.createSprite('b-only', undefined, tokenA);

  // Only the admin token administers organizations and tokens.
  assert.equal((await d.api('POST', '/v1/organizations', { name: 'org-c' }, { token: tokenA })).status, 403);
  assert.equal((await d.api('POST', '/v1/organizations/org-b/tokens', {}, { token: tokenA })).status, 403);
  assert.equal((await d.api('POST', '/v1/organizations/nope/tokens', {})).status, 404);
  // The official token call's FlyV1 scheme works with the admin token.
  const fly = await d.api<{ token: string }>('POST', '/v1/organizations/org-b/tokens', { description: 'Sprite SDK Token' }, { token: null, headers: { authorization: `FlyV1 ${d.adminToken}` } });
  assert.equal(fly.status, 201);

  // Missing, malformed and unknown tokens.
  for (const headers of [{}, { authorization: 'Basic abc' }, { authorization: 'Bearer spr_nope' }] as Record<string, string>[]) {
    const r = await d.api<{ error: string }>('GET', '/v1/sprites', undefined, { token: null, headers });
    assert.equal(r.status, 401);
    assert.equal(r.body.error, 'unauthorized');
    assert.equal(r.headers.get('sprite-version'), '0.1.0');
  }
  await assert.rejects(execInSprite(d.url, 'spr_nope', 'b-only', ['true']), (e: Error & { status?: number }) => e.status === 401);
});
