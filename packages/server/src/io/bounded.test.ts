import assert from 'node:assert/strict';
import { PassThrough, Readable } from 'node:stream';
import { test } from 'node:test';
import { BodyTooLargeError, DeadlineError, readBounded } from './bounded.js';

test('reads a body within its cap', async () => {
  assert.equal(
    (await readBounded(Readable.from([Buffer.from('ab'), Buffer.from('cd')]), { limit: 4 })).toString(),
    'abcd',
  );
});

test('stops at the cap without holding more than it', async () => {
  let produced = 0;
  const endless = new Readable({
    read() {
      produced += 65536;
      this.push(Buffer.alloc(65536));
    },
  });
  await assert.rejects(readBounded(endless, { limit: 1024 * 1024 }), BodyTooLargeError);
  const atStop = produced;
  await new Promise((r) => setTimeout(r, 50));
  assert.ok(produced - atStop <= 16 * 65536, 'reading stopped past the cap');
  endless.destroy();
});

test('a body that never ends fails at its deadline', async () => {
  const stalled = new PassThrough();
  stalled.write('partial');
  const started = Date.now();
  await assert.rejects(readBounded(stalled, { limit: 100, deadlineMs: 100 }), DeadlineError);
  assert.ok(Date.now() - started < 2000);
});
