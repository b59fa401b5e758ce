import assert from 'node:assert/strict';
import { test } from 'node:test';
import { APIError, FilesystemError } from '../errors.js';
import { fakeClient, jsonResponse, withFetch } from '../testing/fake.js';

const fsOf = () =>
  fakeClient(() => assert.fail('no WebSocket expected'))
    .client.sprite('box')
    .filesystem('/home');

test('readFile: GET fs/read with the path and working dir; bytes or text as asked', async () => {
  const fs = fsOf();
  const { result, requests } = await withFetch(
    () => new Response(new Uint8Array([104, 105, 0, 255])),
    () => fs.readFile('notes.txt'),
  );
  assert.ok(Buffer.isBuffer(result));
  assert.deepEqual([...result], [104, 105, 0, 255]);
  assert.equal(requests[0]?.method, 'GET');
  assert.equal(requests[0]?.url.pathname, '/v1/sprites/box/fs/read');
  assert.equal(requests[0]?.url.searchParams.get('path'), 'notes.txt');
  assert.equal(requests[0]?.url.searchParams.get('workingDir'), '/home');
  const { result: textResult } = await withFetch(
    () => new Response('héllo'),
    () => fs.readFile('notes.txt', 'utf8'),
  );
  assert.equal(textResult, 'héllo');
});

test('an errno body becomes a real FilesystemError shaped like Node fs errors', async () => {
  const fs = fsOf();
  const err = await withFetch(
    () => jsonResponse(404, { error: 'no such file or directory', code: 'ENOENT', path: '/home/missing' }),
    () => fs.readFile('missing'),
  ).then(
    () => assert.fail('resolved'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof FilesystemError);
  assert.equal(err.code, 'ENOENT');
  assert.equal(err.path, '/home/missing');
  assert.equal(err.syscall, 'read');
  assert.equal(err.statusCode, 404);
});

test('a 404 without an errno is about the sprite, and stays an APIError', async () => {
  const fs = fsOf();
  const err = await withFetch(
    () => jsonResponse(404, { error: 'sprite_not_found', message: 'no sprite box' }),
    () => fs.readFile('x'),
  ).then(
    () => assert.fail('resolved'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof APIError);
  assert.ok(!(err instanceof FilesystemError));
  assert.equal(err.errorCode, 'sprite_not_found');
});

test('writeFile, mkdir and rm use their fs operations', async () => {
  const fs = fsOf();
  const { requests } = await withFetch(
    () => jsonResponse(200, {}),
    async () => {
      await fs.writeFile('/tmp/a', 'data');
      await fs.mkdir('/tmp/d', { recursive: true });
      await fs.rm('/tmp/d', { recursive: true });
    },
  );
  assert.deepEqual(
    requests.map((r) => `${r.method} ${r.url.pathname}`),
    ['PUT /v1/sprites/box/fs/write', 'POST /v1/sprites/box/fs/mkdir', 'DELETE /v1/sprites/box/fs/delete'],
  );
  assert.equal(requests[0]?.url.searchParams.get('path'), '/tmp/a');
});
