import { parseArgs, type ParseArgsConfig } from 'node:util';

/** A wrong command line: printed with a hint, exit status 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** One option a command (or every command) accepts. */
export interface OptionSpec {
  /** Long name without dashes (`api-url`). */
  name: string;
  /** One-letter alias (`s`). */
  short?: string;
  /** Takes a value (`--dir /tmp`, `--dir=/tmp`); otherwise a boolean flag. */
  value?: boolean;
  /** May be given several times (values are collected). */
  multiple?: boolean;
  /** Shown in --help. */
  help: string;
  /** The value's placeholder in --help. */
  placeholder?: string;
}

export interface Parsed {
  /** Option values by long name: string, string[] (multiple), or true. */
  options: Record<string, string | string[] | true>;
  positionals: string[];
  /** Everything after `--` (or after the first positional when the spec stops there). */
  rest: string[];
  /** Whether `--` was given. */
  dashDash: boolean;
}

/** Options every command understands. */
export const GLOBAL_OPTIONS: OptionSpec[] = [
  {
    name: 'api-url',
    value: true,
    placeholder: 'URL',
    help: 'API URL (env SPRITES_API_URL); default: the configured org, else the daemon on this host',
  },
  { name: 'token', value: true, placeholder: 'TOKEN', help: 'API token (env SPRITE_TOKEN)' },
  {
    name: 'org',
    short: 'o',
    value: true,
    placeholder: 'ORG',
    help: 'organization from ~/.sprites/sprites.json (env SPRITE_ORG)',
  },
  {
    name: 'sprite',
    short: 's',
    value: true,
    placeholder: 'NAME',
    help: 'the sprite to act on (default: the .sprite file here)',
  },
  { name: 'json', help: 'print JSON instead of text' },
  { name: 'help', short: 'h', help: 'show help' },
];

type ParseArgsOptions = NonNullable<ParseArgsConfig['options']>;

/** The option table `node:util` parseArgs wants: every option by long name, with its short alias. */
function parseArgsOptions(specs: readonly OptionSpec[]): ParseArgsOptions {
  const options: ParseArgsOptions = {};
  for (const spec of specs)
    options[spec.name] = { type: spec.value ? 'string' : 'boolean', ...(spec.short ? { short: spec.short } : {}) };
  return options;
}

/** `-1`, `-5s`: a negative number is an argument, not a cluster of digit options. */
const NEGATIVE_NUMBER = /^-\d/;

/**
 * Parses `argv` against the global options plus the command's. Options may come before or
 * after positionals; `--` ends them. With `stopAtPositional`, the first positional and
 * everything after it are the command to run (so `sprite x ls -la` works without `--`).
 *
 * `node:util` parseArgs splits the words (`--dir=/tmp`, `-sNAME`, bundled `-wf`); it runs
 * non-strict so that this function, not parseArgs, words the usage errors, and so that
 * the words after the command in `exec` are never judged as options.
 */
export function parse(
  argv: readonly string[],
  specs: readonly OptionSpec[],
  opts: { stopAtPositional?: boolean } = {},
): Parsed {
  const all = [...GLOBAL_OPTIONS, ...specs];
  const byName = new Map(all.map((s) => [s.name, s]));
  const { tokens } = parseArgs({
    args: [...argv],
    options: parseArgsOptions(all),
    strict: false,
    allowPositionals: true,
    tokens: true,
  });
  const out: Parsed = { options: {}, positionals: [], rest: [], dashDash: false };
  const set = (spec: OptionSpec, value: string | true) => {
    if (spec.multiple) {
      const prev = out.options[spec.name];
      out.options[spec.name] = [...(Array.isArray(prev) ? prev : []), String(value)];
    } else out.options[spec.name] = value;
  };
  /** A positional at `index`; false when it ends parsing (the rest is the command). */
  const positional = (index: number): boolean => {
    if (opts.stopAtPositional) {
      out.rest = argv.slice(index);
      return false;
    }
    out.positionals.push(argv[index]!);
    return true;
  };
  // A bundle like `-12` yields one token per letter, all at the same index.
  let negativeAt = -1;
  for (const token of tokens) {
    if (token.kind === 'option-terminator') {
      out.dashDash = true;
      out.rest = argv.slice(token.index + 1);
      break;
    }
    if (token.kind === 'positional') {
      if (!positional(token.index)) break;
      continue;
    }
    if (NEGATIVE_NUMBER.test(argv[token.index]!)) {
      if (token.index === negativeAt) continue;
      negativeAt = token.index;
      if (!positional(token.index)) break;
      continue;
    }
    const spec = byName.get(token.name);
    if (!spec) {
      // parseArgs names `--=x` "=x"; the option's name is what comes before the `=` (none).
      const typed = token.rawName.startsWith('--') ? token.rawName.split('=')[0] : token.rawName;
      throw new UsageError(`unknown option ${typed}`);
    }
    if (spec.value) {
      if (token.value === undefined) throw new UsageError(`${token.rawName} needs a value`);
      set(spec, token.value);
    } else {
      if (token.value !== undefined) throw new UsageError(`${token.rawName} takes no value`);
      set(spec, true);
    }
  }
  return out;
}

export function str(p: Parsed, name: string): string | undefined {
  const v = p.options[name];
  return typeof v === 'string' ? v : Array.isArray(v) ? v.at(-1) : undefined;
}

export function list(p: Parsed, name: string): string[] {
  const v = p.options[name];
  return Array.isArray(v) ? v : typeof v === 'string' ? [v] : [];
}

export function flag(p: Parsed, name: string): boolean {
  return p.options[name] !== undefined;
}

export function int(p: Parsed, name: string): number | undefined {
  const v = str(p, name);
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v)) throw new UsageError(`--${name} must be a whole number, got "${v}"`);
  return Number(v);
}
