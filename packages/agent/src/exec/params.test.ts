import assert from 'node:assert/strict';
import { test } from 'node:test';
import { commandEnvironment, resolveCommand } from './environment.js';
import { ExecParamError, parseExecParams } from './params.js';

test('exec parameters: argv order kept, env split at the first =, defaults filled', () => {
  const p = parseExecParams(
    new URLSearchParams('cmd=sh&cmd=-c&cmd=exit+42&path=sh&env=A%3Db%3Dc&env=B%3D&stdin=false'),
  );
  assert.deepEqual(p.argv, ['sh', '-c', 'exit 42']);
  assert.deepEqual(p.env, { A: 'b=c', B: '' });
  assert.equal(p.stdin, false);
  assert.equal(p.tty, false);
  assert.equal(p.dir, null);
  assert.equal(p.maxRunAfterDisconnectMs, 10_000);
  const tty = parseExecParams(new URLSearchParams('cmd=bash&tty=true&rows=50&cols=132'));
  assert.equal(tty.rows, 50);
  assert.equal(tty.maxRunAfterDisconnectMs, Number.POSITIVE_INFINITY);
});

test('bad exec parameters are refused with a reason', () => {
  for (const q of ['', 'cmd=', 'cmd=x&env=NOEQ', 'cmd=x&tty=true&rows=0', 'cmd=x&max_run_after_disconnect=soon']) {
    assert.throws(() => parseExecParams(new URLSearchParams(q)), ExecParamError, q);
  }
});

test('command environment and PATH lookup', () => {
  const env = commandEnvironment({ FROM_SPRITE: '1', HOME: '/elsewhere' }, { HOME: '/req' });
  assert.equal(env.HOME, '/req');
  assert.equal(env.FROM_SPRITE, '1');
  assert.equal(env.USER, 'sprite');
  const exists = (p: string) => p === '/usr/bin/ls';
  assert.equal(resolveCommand('ls', '/bin:/usr/bin', exists), '/usr/bin/ls');
  assert.equal(resolveCommand('/usr/bin/ls', '', exists), '/usr/bin/ls');
  assert.equal(resolveCommand('nope', '/usr/bin', exists), null);
});
