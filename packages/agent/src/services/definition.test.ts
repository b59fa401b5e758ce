import assert from 'node:assert/strict';
import { test } from 'node:test';
import { definitionFrom, runnableSet, startOrder, type ServiceDefinition } from './definition.js';

const def = (name: string, needs: string[] = [], http_port: number | null = null): ServiceDefinition => ({
  ...definitionFrom(name, { cmd: 'true', needs }),
  http_port,
});
const set = (...defs: ServiceDefinition[]) => new Map(defs.map((d) => [d.name, d]));

test('runnableSet refuses cycles, what waits on them, unknown needs and a second http_port', () => {
  const { kept, refused } = runnableSet(
    set(
      def('a', ['b']),
      def('b', ['a']),
      def('c', ['a']),
      def('d', ['nope']),
      def('e'),
      def('f', ['e'], 80),
      def('g', [], 81),
    ),
  );
  assert.deepEqual([...kept.keys()].sort(), ['e', 'f']);
  const why = Object.fromEntries(refused.map((r) => [r.file, r.reason]));
  assert.match(why['a.json'] ?? why['b.json'] ?? '', /cycle|refused/);
  assert.match(why['c.json'] ?? '', /refused|cycle/);
  assert.match(why['d.json'] ?? '', /does not exist/);
  assert.match(why['g.json'] ?? '', /http_port/);
});

test('a long chain of needs is checked without recursion', () => {
  const defs: ServiceDefinition[] = [];
  for (let i = 0; i < 20_000; i++) defs.push(def(`s${i}`, i + 1 < 20_000 ? [`s${i + 1}`] : ['s0']));
  const { kept, refused } = runnableSet(set(...defs));
  assert.equal(kept.size, 0);
  assert.equal(refused.length, 20_000);
  assert.deepEqual(
    startOrder(set(def('x', ['y']), def('y'))).map((d) => d.name),
    ['y', 'x'],
  );
});

test('definitions are bounded and free of NUL bytes', () => {
  assert.throws(() => definitionFrom('a', { cmd: 'x', args: new Array(5000).fill('a') }), /at most/);
  assert.throws(() => definitionFrom('a', { cmd: 'x', env: { 'A=B': '1' } }), /env name/);
  assert.throws(() => definitionFrom('a', { cmd: 'x', args: ['a\0b'] }), /NUL/);
});
