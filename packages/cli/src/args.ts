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

/**
 * Parses `argv` against the global options plus the command's. Options may come before or
 * after positionals; `--` ends them. With `stopAtPositional`, the first positional and
 * everything after it are the command to run (so `sprite x ls -la` works without `--`).
 */
export function parse(
  argv: readonly string[],
  specs: readonly OptionSpec[],
  opts: { stopAtPositional?: boolean } = {},
): Parsed {
  const all = [...GLOBAL_OPTIONS, ...specs];
  const byLong = new Map(all.map((s) => [s.name, s]));
  const byShort = new Map(all.filter((s) => s.short).map((s) => [s.short!, s]));
  const out: Parsed = { options: {}, positionals: [], rest: [], dashDash: false };
  const set = (spec: OptionSpec, value: string | true) => {
    if (spec.multiple) {
      const prev = out.options[spec.name];
      out.options[spec.name] = [...(Array.isArray(prev) ? prev : []), String(value)];
    } else out.options[spec.name] = value;
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      out.dashDash = true;
      out.rest = argv.slice(i + 1);
      break;
    }
    if (arg.startsWith('--') && arg.length > 2) {
      const eq = arg.indexOf('=');
      const name = eq > 0 ? arg.slice(2, eq) : arg.slice(2);
      const spec = byLong.get(name);
      if (!spec) throw new UsageError(`unknown option --${name}`);
      if (spec.value) {
        const value = eq > 0 ? arg.slice(eq + 1) : argv[++i];
        if (value === undefined) throw new UsageError(`--${name} needs a value`);
        set(spec, value);
      } else {
        if (eq > 0) throw new UsageError(`--${name} takes no value`);
        set(spec, true);
      }
      continue;
    }
    if (arg.startsWith('-') && arg.length > 1 && !/^-\d/.test(arg)) {
      // -s NAME, -sNAME, or bundled flags like -wf.
      for (let j = 1; j < arg.length; j++) {
        const spec = byShort.get(arg[j]!);
        if (!spec) throw new UsageError(`unknown option -${arg[j]}`);
        if (spec.value) {
          const value = j + 1 < arg.length ? arg.slice(j + 1) : argv[++i];
          if (value === undefined) throw new UsageError(`-${arg[j]} needs a value`);
          set(spec, value);
          break;
        }
        set(spec, true);
      }
      continue;
    }
    if (opts.stopAtPositional) {
      out.rest = argv.slice(i);
      break;
    }
    out.positionals.push(arg);
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
