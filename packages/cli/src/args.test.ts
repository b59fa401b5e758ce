import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { flag, int, list, parse, str, UsageError, type OptionSpec } from './args.js';

/** Options shaped like exec's and services logs': flags, values, a repeatable one, short aliases. */
const SPECS: OptionSpec[] = [
  { name: 'dir', value: true, help: '' },
  { name: 'tty', short: 't', help: '' },
  { name: 'no-tty', short: 'T', help: '' },
  { name: 'env', short: 'e', value: true, multiple: true, help: '' },
  { name: 'lines', short: 'n', value: true, help: '' },
];

function usageError(argv: string[], message: string, opts: { stopAtPositional?: boolean } = {}): void {
  assert.throws(
    () => parse(argv, SPECS, opts),
    (e: unknown) => e instanceof UsageError && e.message === message,
    `${JSON.stringify(argv)} should fail with "${message}"`,
  );
}

describe('parse: flags and values become options', () => {
  test('long options with a separate or an inline value, flags as true', () => {
    const p = parse(['--dir', '/tmp', '--tty', '--lines=5'], SPECS);
    assert.deepEqual(p.options, { dir: '/tmp', tty: true, lines: '5' });
    assert.deepEqual(p.positionals, []);
  });

  test('short aliases are stored under the long name; -nVALUE and bundles like -tT', () => {
    assert.deepEqual(parse(['-n5'], SPECS).options, { lines: '5' });
    assert.deepEqual(parse(['-tT'], SPECS).options, { tty: true, 'no-tty': true });
    // A value option inside a bundle takes the rest of the word, or the next one.
    assert.deepEqual(parse(['-tn7'], SPECS).options, { tty: true, lines: '7' });
    assert.deepEqual(parse(['-tn', '7'], SPECS).options, { tty: true, lines: '7' });
  });

  test('global options are known to every command, before or after positionals', () => {
    const p = parse(['info', '-s', 'demo', '--json', '--api-url=http://h:1', '--token', 'T', '-o', 'lab'], []);
    assert.deepEqual(p.options, { sprite: 'demo', json: true, 'api-url': 'http://h:1', token: 'T', org: 'lab' });
    assert.deepEqual(p.positionals, ['info']);
    assert.deepEqual(parse(['-sdemo', '-h'], []).options, { sprite: 'demo', help: true });
  });

  test('a repeatable option collects every value in order; others keep the last', () => {
    const p = parse(['-e', 'A=1', '--env', 'B=2', '--env=C=3', '-eD=4', '--dir', '/a', '--dir', '/b'], SPECS);
    assert.deepEqual(p.options.env, ['A=1', 'B=2', 'C=3', 'D=4']);
    assert.equal(p.options.dir, '/b');
  });

  test('a value option takes the next word even when it looks like an option or is --', () => {
    assert.deepEqual(parse(['--dir', '-t'], SPECS).options, { dir: '-t' });
    const p = parse(['--dir', '--', 'x'], SPECS);
    assert.deepEqual(p.options, { dir: '--' });
    assert.deepEqual(p.positionals, ['x']);
    assert.equal(p.dashDash, false);
    assert.deepEqual(parse(['--dir='], SPECS).options, { dir: '' });
  });

  test('-- ends the options: what follows is rest, even words that look like options', () => {
    const p = parse(['a', '--tty', '--', '-la', '--dir', 'b'], SPECS);
    assert.deepEqual(p.positionals, ['a']);
    assert.deepEqual(p.options, { tty: true });
    assert.deepEqual(p.rest, ['-la', '--dir', 'b']);
    assert.equal(p.dashDash, true);
  });

  test('negative numbers, a lone - and an empty word are positionals', () => {
    const p = parse(['-9', '-12', '-', '', '-5s'], SPECS);
    assert.deepEqual(p.positionals, ['-9', '-12', '-', '', '-5s']);
    assert.deepEqual(p.options, {});
    assert.deepEqual(parse(['-n', '-5'], SPECS).options, { lines: '-5' });
  });

  test('stopAtPositional: the first positional and everything after it are the command line', () => {
    const p = parse(['-s', 'demo', '--dir', '/tmp', 'ls', '-la', '--dir', 'x', '--bogus'], SPECS, {
      stopAtPositional: true,
    });
    assert.deepEqual(p.options, { sprite: 'demo', dir: '/tmp' });
    assert.deepEqual(p.positionals, []);
    assert.deepEqual(p.rest, ['ls', '-la', '--dir', 'x', '--bogus']);
    assert.equal(p.dashDash, false);
    assert.deepEqual(parse(['-t', '-1', 'x'], SPECS, { stopAtPositional: true }).rest, ['-1', 'x']);
    const dashed = parse(['-t', '--', 'ls', '-la'], SPECS, { stopAtPositional: true });
    assert.deepEqual(dashed.rest, ['ls', '-la']);
    assert.equal(dashed.dashDash, true);
  });
});

describe('parse: a wrong command line is a UsageError naming the option as typed', () => {
  test('unknown options, long and short, also inside a bundle or with a value', () => {
    usageError(['--bogus'], 'unknown option --bogus');
    usageError(['--bogus=1'], 'unknown option --bogus');
    usageError(['-z'], 'unknown option -z');
    usageError(['-tz'], 'unknown option -z');
    usageError(['--='], 'unknown option --');
    // Only the command's own options and the global ones are known.
    assert.throws(() => parse(['--dir', 'x'], []), /unknown option --dir/);
  });

  test('a value option without its value', () => {
    usageError(['--dir'], '--dir needs a value');
    usageError(['-n'], '-n needs a value');
    usageError(['-tn'], '-n needs a value');
    usageError(['-s'], '-s needs a value');
  });

  test('a flag given a value', () => {
    usageError(['--tty=yes'], '--tty takes no value');
    usageError(['--json=1'], '--json takes no value');
  });

  test('the first mistake is the one reported', () => {
    usageError(['--bogus', '--dir'], 'unknown option --bogus');
    usageError(['--tty=1', '-z'], '--tty takes no value');
  });

  test('after the command line starts, nothing is judged (exec passes it on)', () => {
    assert.deepEqual(parse(['ls', '--bogus', '-z'], SPECS, { stopAtPositional: true }).rest, ['ls', '--bogus', '-z']);
    usageError(['--bogus', 'ls'], 'unknown option --bogus', { stopAtPositional: true });
  });
});

describe('option readers', () => {
  const p = parse(['-e', 'A=1', '-e', 'B=2', '--dir', '/x', '--tty', '-n', '12'], SPECS);

  test('str: the value (the last of a repeatable one); undefined when absent or a flag', () => {
    assert.equal(str(p, 'dir'), '/x');
    assert.equal(str(p, 'env'), 'B=2');
    assert.equal(str(p, 'lines'), '12');
    assert.equal(str(p, 'tty'), undefined);
    assert.equal(str(p, 'sprite'), undefined);
  });

  test('list: every value, one value as a list, nothing as []', () => {
    assert.deepEqual(list(p, 'env'), ['A=1', 'B=2']);
    assert.deepEqual(list(p, 'dir'), ['/x']);
    assert.deepEqual(list(p, 'sprite'), []);
  });

  test('flag: given or not', () => {
    assert.equal(flag(p, 'tty'), true);
    assert.equal(flag(p, 'no-tty'), false);
    assert.equal(flag(p, 'dir'), true);
  });

  test('int: a whole number, or a UsageError quoting what was given', () => {
    assert.equal(int(p, 'lines'), 12);
    assert.equal(int(p, 'sprite'), undefined);
    for (const bad of ['-1', '1.5', 'ten', '']) {
      assert.throws(
        () => int(parse(['--lines', bad], SPECS), 'lines'),
        (e: unknown) => e instanceof UsageError && e.message === `--lines must be a whole number, got "${bad}"`,
      );
    }
  });
});
