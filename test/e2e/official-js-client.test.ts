import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { startTestDaemon } from '../helpers/daemon.js';

const COMPAT = resolve(fileURLToPath(new URL('../compat', import.meta.url)));
const NODE24 = join(COMPAT, 'node_modules', '.bin', 'node');

test('the official @fly/sprites client works against spritesd unchanged', async (t) => {
  if (!existsSync(join(COMPAT, 'node_modules', '@fly', 'sprites'))) {
    const why = 'test/compat is not installed (scripts/setup-host.sh installs it)';
    if (process.env.SPRITES_REQUIRED_TESTS === '1') assert.fail(why);
    t.skip(why);
    return;
  }
  const d = await startTestDaemon(t);
  const { stdout } = await promisify(execFile)(NODE24, [join(COMPAT, 'scenario.mjs')], {
    cwd: COMPAT,
    env: { ...process.env, SPRITES_URL: d.url, SPRITES_TOKEN: d.adminToken, SPRITE_NAME: 'js-compat' },
    timeout: 240_000,
  });
  const r = JSON.parse(stdout) as Record<string, unknown>;
  assert.deepEqual(r.create, { name: 'js-compat', status: 'running', labels: ['compat'] });
  assert.deepEqual(r.get, { name: 'js-compat', status: 'running', ramMB: 512 });
  assert.deepEqual(r.list, { names: ['js-compat'], running: 1 });
  assert.equal(r.exec, 'hello world\n');
  assert.equal(r.execEnv, 'yes x\n/tmp\n');
  assert.equal((r.exit42 as { exitCode: number }).exitCode, 42);
  assert.deepEqual(r.stdin, { code: 0, text: 'piped through cat' });
  const tty = r.tty as { code: number; text: string };
  assert.equal(tty.code, 0);
  assert.match(tty.text, /\/dev\/pts\/\d+\r?\n24 80/);
  assert.equal(r.sessions, 0);
  assert.equal(r.fsWriteRead, 'hello from js');
  assert.deepEqual(r.fsStat, { size: 13, mode: '640', isFile: true, isDir: false });
  assert.deepEqual(r.fsMkdirReaddir, {
    names: ['data.json', 'empty', 'src'],
    typed: ['data.json:f', 'empty:d', 'src:d'],
    json: { a: 1 },
  });
  assert.deepEqual(r.fsExists, { yes: true, no: false });
  assert.deepEqual(r.fsRenameCopy, ['empty', 'moved.json', 'src', 'src-copy']);
  assert.equal(r.fsChmod, '600');
  assert.equal(r.fsChown, 'root:root\n');
  assert.deepEqual(r.fsErrors, ['ENOENT', 'ENOTEMPTY', 'EACCES']);
  const watched = r.fsWatch as string[];
  assert.ok(watched.includes('write:/home/sprite/proj/src/watched.txt'), JSON.stringify(watched));
  assert.ok(watched.includes('remove:/home/sprite/proj/src/watched.txt'), JSON.stringify(watched));
  assert.equal(r.fsRm, false);
  assert.deepEqual(r.update, ['a', 'b']);
  assert.equal(r.delete, 'deleted');
  assert.match(String((r.getAfterDelete as { error: string }).error), /not found|404/i);
});
