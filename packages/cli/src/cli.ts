/**
 * The `sprite` command tree and its one entry, `runCli`: routes the words to a command,
 * parses its options, runs it, and turns what went wrong into a message and an exit status.
 * Everything goes through the SDK; credentials come from flags, the environment,
 * ~/.sprites/sprites.json, or the daemon on this host.
 */
import { APIError, ConnectionError, FilesystemError } from '@sprites/sdk';
import { GLOBAL_OPTIONS, parse, UsageError } from './args.js';
import { findCommand, helpText, type Command } from './command.js';
import { apiCommands } from './commands/api.js';
import { authCommands } from './commands/auth.js';
import { checkpointCommands } from './commands/checkpoints.js';
import { consoleCommands } from './commands/console.js';
import { execCommands } from './commands/exec.js';
import { proxyCommands } from './commands/proxy.js';
import { policyCommands } from './commands/policy.js';
import { serviceCommands } from './commands/services.js';
import { spriteCommands } from './commands/sprites.js';
import { completionScript } from './completion.js';
import { io } from './output.js';

export const VERSION = '0.1.0';

const completion: Command = {
  name: 'completion',
  summary: 'Print a shell completion script',
  usage: 'completion bash|zsh|fish',
  examples: ['source <(sprite completion bash)', 'sprite completion fish | source'],
  run(p) {
    const script = completionScript(p.positionals[0] ?? '', commands);
    if (!script) throw new UsageError('which shell? sprite completion bash|zsh|fish');
    io.stdout.write(script);
    return 0;
  },
};

const commands: Command[] = [
  ...spriteCommands,
  ...execCommands,
  ...consoleCommands,
  ...checkpointCommands,
  ...serviceCommands,
  ...proxyCommands,
  ...policyCommands,
  ...apiCommands,
  ...authCommands,
  completion,
];

const root: Command = {
  name: 'sprite',
  summary: 'sprite: persistent, isolated Linux environments on your own host',
  usage: 'COMMAND [options]',
  subcommands: commands,
  examples: [
    'sprite create demo',
    'sprite exec -s demo -- uname -a',
    'sprite console -s demo',
    'sprite checkpoint create -s demo',
  ],
};

/** Finds the (sub)command the words name; returns it and the remaining argv. */
/** The global options that take a value, as they may be spelled before the command word. */
const takesValue = new Set(
  GLOBAL_OPTIONS.filter((o) => o.value).flatMap((o) => [`--${o.name}`, ...(o.short ? [`-${o.short}`] : [])]),
);

function route(argv: readonly string[]): { cmd: Command; path: string[]; rest: string[] } {
  let cmd = root;
  const path: string[] = [];
  let i = 0;
  // Global options may come before the command word: skip them (and their values).
  const before: string[] = [];
  while (i < argv.length) {
    const a = argv[i]!;
    if (a.startsWith('-')) {
      before.push(a);
      if (takesValue.has(a) && i + 1 < argv.length) before.push(argv[++i]!);
      i++;
      continue;
    }
    const sub = cmd.subcommands ? findCommand(cmd.subcommands, a) : undefined;
    if (!sub) break;
    cmd = sub;
    path.push(sub.name);
    i++;
    if (!sub.subcommands) break;
  }
  return { cmd, path, rest: [...before, ...argv.slice(i)] };
}

async function main(argv: readonly string[]): Promise<number> {
  if (argv[0] === '--version' || argv[0] === 'version') {
    io.stdout.write(`sprite ${VERSION}\n`);
    return 0;
  }
  const { cmd, path, rest } = route(argv);
  const parsed = parse(rest, cmd.options ?? [], { stopAtPositional: cmd.stopAtPositional });
  if (parsed.options.help !== undefined || !cmd.run) {
    if (!cmd.run && parsed.positionals.length > 0 && !parsed.options.help) {
      throw new UsageError(
        `unknown command "${[...path, parsed.positionals[0]].join(' ')}"; see \`sprite ${path.join(' ')} --help\``.replace(
          '  ',
          ' ',
        ),
      );
    }
    io.stdout.write(helpText(cmd, path));
    return cmd.run || parsed.options.help !== undefined ? 0 : 2;
  }
  return cmd.run(parsed);
}

function report(e: unknown): number {
  if (e instanceof UsageError) {
    io.stderr.write(`sprite: ${e.message}\n`);
    return 2;
  }
  if (e instanceof APIError) {
    const hint = e.statusCode === 401 ? ' (check the token: `sprite login`, SPRITE_TOKEN or --token)' : '';
    io.stderr.write(`sprite: ${e.message} (HTTP ${e.statusCode ?? '?'})${hint}\n`);
    return 1;
  }
  if (e instanceof FilesystemError) {
    io.stderr.write(`sprite: ${e.message}\n`);
    return 1;
  }
  if (e instanceof ConnectionError) {
    io.stderr.write(`sprite: lost the connection to the sprites API: ${e.message}\n`);
    return 255;
  }
  io.stderr.write(`sprite: ${e instanceof Error ? e.message : String(e)}\n`);
  return 1;
}

/**
 * Runs `sprite ARGV...` and returns its exit status: the command's own, 2 for a wrong
 * command line, 1 for an API or file error, 255 for a lost connection (as ssh does).
 */
export async function runCli(argv: readonly string[]): Promise<number> {
  try {
    return await main(argv);
  } catch (e) {
    return report(e);
  }
}
