import { GLOBAL_OPTIONS, type OptionSpec, type Parsed } from './args.js';

/** A `sprite` command (or a group of subcommands). */
export interface Command {
  name: string;
  aliases?: string[];
  summary: string;
  /** The synopsis after `sprite `. */
  usage: string;
  options?: OptionSpec[];
  examples?: string[];
  /** The first positional starts the remote command line (exec). */
  stopAtPositional?: boolean;
  subcommands?: Command[];
  /** Returns the exit status. */
  run?: (p: Parsed) => number | Promise<number>;
}

function optionLine(o: OptionSpec): string {
  const names = `${o.short ? `-${o.short}, ` : '    '}--${o.name}${o.value ? ` ${o.placeholder ?? 'VALUE'}` : ''}`;
  return `  ${names.padEnd(30)} ${o.help}${o.multiple ? ' (repeatable)' : ''}`;
}

/** The --help text of a command. */
export function helpText(cmd: Command, path: string[]): string {
  const lines = [`${cmd.summary}`, '', `Usage:\n  sprite ${cmd.usage}`];
  if (cmd.aliases?.length) lines.push('', `Aliases: ${[cmd.name, ...cmd.aliases].join(', ')}`);
  if (cmd.subcommands?.length) {
    lines.push('', 'Commands:');
    for (const sub of cmd.subcommands)
      lines.push(`  ${[sub.name, ...(sub.aliases ?? [])].join(', ').padEnd(28)} ${sub.summary}`);
    lines.push('', `Run \`sprite ${[...path, 'COMMAND'].join(' ')} --help\` for a command's options.`);
  }
  if (cmd.options?.length) {
    lines.push('', 'Options:');
    for (const o of cmd.options) lines.push(optionLine(o));
  }
  lines.push('', 'Global options:');
  for (const o of GLOBAL_OPTIONS) lines.push(optionLine(o));
  if (cmd.examples?.length) {
    lines.push('', 'Examples:');
    for (const e of cmd.examples) lines.push(`  ${e}`);
  }
  return `${lines.join('\n')}\n`;
}

export function findCommand(commands: readonly Command[], word: string): Command | undefined {
  return commands.find((c) => c.name === word || c.aliases?.includes(word));
}
