import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startTestDaemon } from '../helpers/daemon.js';

interface Info {
  id: string;
  name: string;
  organization: string;
  status: string;
  config: { ram_mb: number; cpus: number; storage_gb: number; region: string };
  environment: Record<string, string>;
  labels: string[];
  url: string;
  url_settings: { auth?: string; private_access?: string };
  created_at: string;
  updated_at: string;
  last_running_at: string | null;
  last_warming_at: string | null;
}

const RFC3339 = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/;

test('management API: create, get, list with pages, update labels and URL settings, upgrade, delete', async (t) => {
  const d = await startTestDaemon(t);

  const created = await d.api<Info>('POST', '/v1/sprites', {
    name: 'api-one',
    config: { ram_mb: 512, cpus: 1, storage_gb: 2 },
    environment: { GREETING: 'hello world' },
    labels: ['team-x', 'team-x', 'ci'],
    url_settings: { auth: 'public' },
    wait_for_capacity: true,
    runtime: 'default',
    some_future_field: { nested: true },
  });
  assert.equal(created.status, 201, created.text);
  assert.equal(created.headers.get('sprite-version'), '0.1.0');
  const info = created.body;
  assert.equal(info.name, 'api-one');
  assert.equal(info.organization, 'default');
  assert.equal(info.status, 'running');
  assert.deepEqual(info.config, { ram_mb: 512, cpus: 1, storage_gb: 2, region: 'local' });
  assert.deepEqual(info.environment, { GREETING: 'hello world' });
  assert.deepEqual(info.labels, ['team-x', 'ci']);
  assert.equal(info.url_settings.auth, 'public');
  assert.match(info.id, /^[0-9a-f-]{36}$/);
  for (const field of ['created_at', 'updated_at', 'last_running_at'] as const)
    assert.match(String(info[field]), RFC3339);
  assert.equal(info.last_warming_at, null);
  assert.match(info.url, /api-one/);

  // The environment reaches commands; a request's env entries win.
  const env = await d.exec('api-one', ['sh', '-c', 'echo "$GREETING|$OTHER"'], { env: ['OTHER=x y'] });
  assert.equal(env.stdout, 'hello world|x y\n');
  const dir = await d.exec('api-one', ['pwd'], { dir: '/tmp' });
  assert.equal(dir.stdout, '/tmp\n');
  const stdin = await d.exec('api-one', ['cat'], { stdin: 'piped bytes' });
  assert.equal(stdin.stdout, 'piped bytes');
  const exit = await d.exec('api-one', ['sh', '-c', 'exit 42']);
  assert.equal(exit.code, 42);
  assert.match(exit.messages[0] ?? '', /"type":"session_info","session_id":"\d+"/);

  const taken = await d.api<{ error: string; message: string }>('POST', '/v1/sprites', { name: 'api-one' });
  assert.equal(taken.status, 400);
  assert.equal(taken.body.error, 'name_taken');
  assert.match(taken.body.message, /already exists/);

  const got = await d.api<Info>('GET', '/v1/sprites/api-one');
  assert.equal(got.status, 200);
  assert.equal(got.body.id, info.id);

  // Labels: replaced by a new list; clear_labels empties them; URL settings merge.
  const upd = await d.api<Info>('PUT', '/v1/sprites/api-one', {
    labels: ['a', 'b'],
    url_settings: { private_access: 'org' },
  });
  assert.equal(upd.status, 200, upd.text);
  assert.deepEqual(upd.body.labels, ['a', 'b']);
  assert.deepEqual(upd.body.url_settings, { auth: 'public', private_access: 'org' });
  const cleared = await d.api<Info>('PUT', '/v1/sprites/api-one', { clear_labels: true });
  assert.deepEqual(cleared.body.labels, []);
  const nullSettings = await d.api<Info>('PUT', '/v1/sprites/api-one', { url_settings: null });
  assert.equal(nullSettings.status, 200);
  assert.equal(nullSettings.body.url_settings.auth, 'public');

  // Pages of 2 over 5 sprites in creation order, with a prefix filter.
  for (const n of ['pg-1', 'pg-2', 'pg-3', 'pg-4']) await d.createSprite(n, { ram_mb: 128, storage_gb: 1 });
  const names: string[] = [];
  let token: string | null = null;
  let pages = 0;
  do {
    const q: string = `/v1/sprites?prefix=pg-&max_results=2${token ? `&continuation_token=${encodeURIComponent(token)}` : ''}`;
    const page = await d.api<{
      sprites: Info[];
      has_more: boolean;
      next_continuation_token: string | null;
      org: { name: string; running: number };
    }>('GET', q);
    assert.equal(page.status, 200, page.text);
    assert.equal(page.body.org.name, 'default');
    assert.equal(page.body.org.running, 5);
    names.push(...page.body.sprites.map((s) => s.name));
    token = page.body.has_more ? page.body.next_continuation_token : null;
    pages++;
  } while (token);
  assert.deepEqual(names, ['pg-1', 'pg-2', 'pg-3', 'pg-4']);
  assert.equal(pages, 2);
  const all = await d.api<{ sprites: Info[] }>('GET', '/v1/sprites?max_results=100');
  assert.equal(all.body.sprites.length, 5, 'max_results above 50 is accepted');
  const bad = await d.api<{ error: string }>('GET', '/v1/sprites?continuation_token=garbage');
  assert.equal(bad.status, 400);

  // Upgrade restarts onto the current platform; the disk stays.
  await d.exec('api-one', ['sh', '-c', 'echo kept > /home/sprite/k']);
  const up = await d.api('POST', '/v1/sprites/api-one/upgrade');
  assert.equal(up.status, 204);
  assert.equal((await d.exec('api-one', ['cat', '/home/sprite/k'])).stdout, 'kept\n');

  // Delete removes it; a second delete and a get are 404.
  assert.equal((await d.api('DELETE', '/v1/sprites/api-one')).status, 204);
  assert.equal((await d.api('GET', '/v1/sprites/api-one')).status, 404);
  assert.equal((await d.api('DELETE', '/v1/sprites/api-one')).status, 404);
  // The name is free again, and the new sprite starts from a clean disk.
  await d.createSprite('api-one', { ram_mb: 256, storage_gb: 1 });
  const fresh = await d.exec('api-one', ['sh', '-c', 'cat /home/sprite/k 2>&1 || true']);
  assert.match(fresh.stdout, /No such file/);
});
