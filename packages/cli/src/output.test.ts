import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ago, formatTable, io, note, printJson, printTable, type TextSink } from './output.js';

/** Runs `fn` with io's streams captured as text. */
function captured(fn: () => void): { stdout: string; stderr: string } {
  const saved = { ...io };
  const out = { stdout: '', stderr: '' };
  const sink = (key: keyof typeof out): TextSink => ({
    write: (chunk) => (out[key] += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8')),
  });
  io.stdout = sink('stdout');
  io.stderr = sink('stderr');
  try {
    fn();
  } finally {
    Object.assign(io, saved);
  }
  return out;
}

describe('formatTable', () => {
  test('columns as wide as their widest cell, two spaces apart, the last one unpadded', () => {
    const text = formatTable(
      ['NAME', 'STATUS', 'LABELS'],
      [
        ['a', 'running', 'x,y'],
        ['long-name', 'cold', ''],
      ],
    );
    assert.equal(text, 'NAME       STATUS   LABELS\na          running  x,y\nlong-name  cold     -\n');
  });

  test('empty and missing cells print as "-", numbers as digits', () => {
    assert.equal(formatTable(['A', 'B', 'C'], [[undefined, 42, '']]), 'A  B   C\n-  42  -\n');
  });

  test('no rows: the header alone', () => {
    assert.equal(formatTable(['ID', 'CREATED'], []), 'ID  CREATED\n');
  });
});

describe('ago', () => {
  const now = Date.parse('2026-01-10T12:00:00Z');
  const before = (seconds: number) => new Date(now - seconds * 1000);

  test('seconds, minutes, hours, days, rounded down past the first unit', () => {
    assert.equal(ago(before(0), now), '0s ago');
    assert.equal(ago(before(59), now), '59s ago');
    assert.equal(ago(before(60), now), '1m ago');
    assert.equal(ago(before(3599), now), '59m ago');
    assert.equal(ago(before(3600), now), '1h ago');
    assert.equal(ago(before(86399), now), '23h ago');
    assert.equal(ago(before(86400 * 5 + 3600), now), '5d ago');
  });

  test('unknown or zero dates are "-"; a clock skewed into the future is "0s ago"', () => {
    assert.equal(ago(undefined, now), '-');
    assert.equal(ago(new Date(0), now), '-');
    assert.equal(ago(new Date(now + 10_000), now), '0s ago');
  });
});

describe('printing goes through io', () => {
  test('tables and JSON to stdout, notices to stderr', () => {
    const out = captured(() => {
      printTable(['K', 'V'], [['a', 1]]);
      printJson({ when: new Date('2026-01-10T12:00:00Z'), list: [1] });
      note('done');
    });
    assert.equal(out.stdout, 'K  V\na  1\n{\n  "when": "2026-01-10T12:00:00.000Z",\n  "list": [\n    1\n  ]\n}\n');
    assert.equal(out.stderr, 'done\n');
  });
});
