import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RingBuffer } from './ring-buffer.js';

test('the ring keeps the last bytes, cutting inside a chunk if it must', () => {
  const r = new RingBuffer(5);
  r.push(Buffer.from('abc'));
  r.push(Buffer.from('defg'));
  assert.equal(r.contents().toString(), 'cdefg');
  r.push(Buffer.from('0123456789'));
  assert.equal(r.contents().toString(), '56789');
  assert.equal(r.length, 5);
  r.push(Buffer.alloc(0));
  assert.equal(r.length, 5);
});
