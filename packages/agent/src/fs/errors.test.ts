import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fsErrorFrom } from './errors.js';

test('errno codes libuv cannot name are named from the errno number', () => {
  const quota = fsErrorFrom(
    Object.assign(new Error('Unknown system error -122: Unknown system error -122, write'), {
      errno: -122,
      code: 'Unknown system error -122',
      syscall: 'write',
    }),
    '/x',
  );
  assert.equal(quota.code, 'EDQUOT');
  assert.equal(quota.status, 507);
  assert.match(quota.message, /^EDQUOT: disk quota exceeded, write '\/x' \(.*storage_gb/);
});

test('known codes keep their status; ENOENT is the only 404', () => {
  const e = (code: string) =>
    fsErrorFrom(Object.assign(new Error(`${code}: x, open '/y'`), { code, syscall: 'open' }), '/y');
  assert.deepEqual(
    [e('ENOENT').status, e('EACCES').status, e('ENOTEMPTY').status, e('EISDIR').status, e('EIO').status],
    [404, 403, 409, 400, 500],
  );
  assert.equal(e('ENOENT').toBody().path, '/y');
});

test('ENOSPC on the disk names the host pool, on a tmpfs the memory-backed directory', () => {
  const full = (path: string) =>
    fsErrorFrom(
      Object.assign(new Error(`ENOSPC: no space left on device, write`), { code: 'ENOSPC', syscall: 'write' }),
      path,
    );
  const onDisk = full('/usr/lib/nowhere/x');
  assert.equal(onDisk.status, 507);
  assert.match(onDisk.message, /host's storage pool is full, not this sprite's quota/);
  // /dev/shm is a tmpfs on every Linux this runs on.
  assert.match(full('/dev/shm/no-such-dir/x').message, /memory-backed/);
});
