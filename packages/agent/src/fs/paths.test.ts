import assert from 'node:assert/strict';
import { test } from 'node:test';
import { globMatcher } from './entries.js';
import { flag, formatMode, parseMode, resolvePath } from './paths.js';
import { parseRange } from './transfer.js';

test('paths resolve against workingDir and never above /', () => {
  assert.equal(resolvePath('a/b', '/srv'), '/srv/a/b');
  assert.equal(resolvePath('a', undefined), '/home/sprite/a');
  assert.equal(resolvePath('/etc/x', '/srv'), '/etc/x');
  assert.equal(resolvePath('../../../../etc/passwd', '/home/sprite'), '/etc/passwd');
  assert.equal(resolvePath('dir/', '/'), '/dir/');
  assert.throws(() => resolvePath('', '/'), /path is required/);
  assert.throws(() => resolvePath('a\0b', '/'), /NUL/);
  assert.throws(() => resolvePath('a', 'relative'), /workingDir must be an absolute path/);
});

test('modes are octal digits', () => {
  assert.equal(parseMode('0644'), 0o644);
  assert.equal(parseMode('755'), 0o755);
  assert.equal(parseMode('4755'), 0o4755);
  assert.equal(parseMode(undefined), undefined);
  for (const bad of ['0999', 'rwx', '-1', '77777', '0x1ff']) assert.throws(() => parseMode(bad), /octal/, bad);
  assert.equal(formatMode(0o100644), '0644');
  assert.equal(flag('true'), true);
  assert.equal(flag(undefined, true), true);
  assert.equal(flag('false', true), false);
});

test('glob patterns match base names', () => {
  const md = globMatcher('*.md');
  assert.ok(md('a.md') && !md('a.mdx') && !md('md'));
  const q = globMatcher('f?[0-9][!x]');
  assert.ok(q('fa1y') && !q('fa1x') && !q('faay'));
  assert.ok(globMatcher('a.b(c)')('a.b(c)'));
});

test('byte ranges from the Range header (inclusive) and start/end (end exclusive)', () => {
  assert.deepEqual(parseRange('bytes=2-5', null, null), { start: 2, end: 6 });
  assert.deepEqual(parseRange('bytes=7-', null, null), { start: 7, end: undefined });
  assert.deepEqual(parseRange('bytes=-3', null, null), { start: -3 });
  assert.deepEqual(parseRange(undefined, '1', '3'), { start: 1, end: 3 });
  assert.equal(parseRange(undefined, null, null), null);
  assert.throws(() => parseRange('bytes=1-2,4-5', null, null), /one range/);
  assert.throws(() => parseRange(undefined, '5', '2'), /start <= end/);
});
