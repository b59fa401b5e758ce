import assert from 'node:assert/strict';
import { test } from 'node:test';
import { KeyedMutex } from './mutex.js';
import { runAll, UndoStack } from './undo.js';

test('undo steps run last-in-first-out unless committed, and keep going past failures', async () => {
  const order: string[] = [];
  const undo = new UndoStack();
  undo.push('a', () => order.push('a'));
  undo.push('b', () => {
    throw new Error('b failed');
  });
  undo.push('c', () => order.push('c'));
  const errors = await undo.unwind();
  assert.deepEqual(order, ['c', 'a']);
  assert.equal(errors.length, 1);
  const kept = new UndoStack();
  kept.push('x', () => order.push('x'));
  kept.commit();
  assert.deepEqual(await kept.unwind(), []);
  assert.ok(!order.includes('x'));
});

test('a disposed undo stack unwinds when its block throws, and reports failed steps', async () => {
  const order: string[] = [];
  const reported: string[] = [];
  const operation = async (fail: boolean) => {
    await using undo = new UndoStack((err) => reported.push(err.message));
    undo.push('first', () => order.push('first'));
    undo.push('broken', () => {
      throw new Error('cannot');
    });
    undo.push('last', () => order.push('last'));
    if (fail) throw new Error('operation failed');
    undo.commit();
  };
  await assert.rejects(operation(true), /operation failed/);
  assert.deepEqual(order, ['last', 'first']);
  assert.deepEqual(reported, ['undo broken']);
  await operation(false);
  assert.deepEqual(order, ['last', 'first'], 'a committed stack runs nothing');
  assert.deepEqual(reported, ['undo broken']);
});

test('runAll runs every step and reports all failures at once', async () => {
  const ran: number[] = [];
  await assert.rejects(
    runAll('teardown', [
      ['one', () => ran.push(1)],
      ['two', () => Promise.reject(new Error('nope'))],
      ['three', () => ran.push(3)],
    ]),
    (e: AggregateError) => e.errors.length === 1 && /two: nope/.test(e.message),
  );
  assert.deepEqual(ran, [1, 3]);
});

test('a keyed mutex serializes work per key and not across keys', async () => {
  const m = new KeyedMutex();
  const log: string[] = [];
  const slow = (tag: string, ms: number) =>
    m.run(tag[0]!, async () => {
      log.push(`start ${tag}`);
      await new Promise((r) => setTimeout(r, ms));
      log.push(`end ${tag}`);
    });
  await Promise.all([slow('a1', 30), slow('a2', 1), slow('b1', 5)]);
  assert.ok(log.indexOf('end a1') < log.indexOf('start a2'));
  assert.ok(log.indexOf('start b1') < log.indexOf('end a1'));
});
