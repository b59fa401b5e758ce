import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ErrorCode, SpriteError } from '@sprites/protocol';
import { hostFault } from './faults.js';
import { CommandError } from './run.js';

const failed = (argv: string[], stderr: string, code = 1) => new CommandError(argv, code, '', stderr);

test('a failing host command is a 503 host_error naming the operation and the complaint', () => {
  const e = new Error('create network namespace spr-ab1-7', {
    cause: failed(['ip', '-n', 'spr-ab1-7', '-batch', '-'], 'RTNETLINK answers: File exists\nmore lines\n', 2),
  });
  const fault = hostFault(e);
  assert.ok(fault);
  assert.equal(fault.code, ErrorCode.HostError);
  assert.equal(fault.status, 503);
  assert.match(
    fault.message,
    /^a host operation failed: create network namespace spr-ab1-7: ip exited 2: RTNETLINK answers: File exists\. /,
  );
  assert.doesNotMatch(fault.message, /more lines/);
});

test('runAll summaries give way to their failed step; a program that cannot start counts as a host fault', () => {
  const inner = failed(['/usr/sbin/nft', '-f', '-'], 'Error: Could not process rule');
  const all = new AggregateError(
    [new Error('lift network policy', { cause: inner })],
    'stop sprite x: lift network policy: nft -f -: Error: Could not process rule',
  );
  const fault = hostFault(new Error('upgrade', { cause: all }));
  assert.equal(fault?.code, ErrorCode.HostError);
  assert.match(fault.message, /: upgrade: lift network policy: nft exited 1: Error: Could not process rule\. /);
  const spawn = Object.assign(new Error('spawn crun ENOENT'), { code: 'ENOENT', syscall: 'spawn crun' });
  assert.equal(hostFault(new Error('crun: spawn crun ENOENT', { cause: spawn }))?.code, ErrorCode.HostError);
});

test('no space, from btrfs or from a write, is 507 insufficient_storage; the quota is quota_exceeded', () => {
  const snap = failed(
    ['btrfs', 'subvolume', 'snapshot', '/a', '/b'],
    "ERROR: cannot snapshot '/a': No space left on device",
  );
  assert.equal(hostFault(snap)?.code, ErrorCode.InsufficientStorage);
  assert.equal(hostFault(snap)?.status, 507);
  const helper = new Error('take checkpoint', {
    cause: failed(['/x/sprites-helper', 'snapshot'], 'sprites-helper: snapshot: No space left on device'),
  });
  assert.equal(hostFault(helper)?.code, ErrorCode.InsufficientStorage);
  const mkdir = Object.assign(
    new Error("ENOSPC: no space left on device, mkdir '/d/storage/pool/auto-checkpoints/x'"),
    { code: 'ENOSPC', syscall: 'mkdir', path: '/d/storage/pool/auto-checkpoints/x' },
  );
  assert.equal(hostFault(new Error('restore checkpoint v1', { cause: mkdir }))?.code, ErrorCode.InsufficientStorage);
  const quota = failed(['/x/sprites-helper', 'snapshot'], 'sprites-helper: snapshot: Disk quota exceeded');
  assert.equal(hostFault(quota)?.code, ErrorCode.QuotaExceeded);
  assert.equal(
    hostFault(
      Object.assign(new Error('Unknown system error -122'), { errno: -122, path: '/d/storage/pool/volumes/x/f' }),
    )?.code,
    ErrorCode.QuotaExceeded,
  );
});

test('ENOSPC that is not storage stays a host error; a sprite cannot make its console output one', () => {
  const ip = failed(['ip', 'link', 'add', 'sprx1'], 'RTNETLINK answers: No space left on device');
  assert.equal(hostFault(new Error('create network namespace spr-x-1', { cause: ip }))?.code, ErrorCode.HostError);
  const cgroup = Object.assign(new Error('ENOSPC: no space left on device, mkdir'), {
    code: 'ENOSPC',
    syscall: 'mkdir',
    path: '/sys/fs/cgroup/memory/sprites-x/y',
  });
  assert.equal(hostFault(new Error('start the sprite', { cause: cgroup }))?.code, ErrorCode.HostError);
  // The runtime's complaint quotes the sprite's console: only the command's own failure counts.
  const start = new Error('crun could not start container spr-x-y: No space left on device', {
    cause: failed(['/x/sprites-helper', 'listen'], ''),
  });
  assert.equal(hostFault(start)?.code, ErrorCode.HostError);
});

test('errors that are not host faults stay unclassified; SpriteErrors pass through', () => {
  assert.equal(hostFault(new TypeError('x is undefined')), null);
  assert.equal(hostFault('a string'), null);
  const mine = new SpriteError(ErrorCode.NotFound, 'nope');
  assert.equal(hostFault(mine), mine);
});
