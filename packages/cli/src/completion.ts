import type { Command } from './command.js';

function words(commands: readonly Command[]): string[] {
  return commands.flatMap((c) => [c.name, ...(c.aliases ?? [])]);
}

/** A completion script for bash, zsh or fish: command words, then subcommand words. */
export function completionScript(shell: string, commands: readonly Command[]): string | null {
  const top = words(commands).join(' ');
  const subs = commands
    .filter((c) => c.subcommands?.length)
    .map((c) => [c.name, words(c.subcommands!).join(' ')] as const);
  if (shell === 'bash') {
    const cases = subs
      .map(([name, list]) => `    ${name}) COMPREPLY=($(compgen -W "${list}" -- "$cur")) ;;`)
      .join('\n');
    return `# sprite completion for bash: source <(sprite completion bash)
_sprite() {
  local cur=\${COMP_WORDS[COMP_CWORD]}
  if [ "$COMP_CWORD" -eq 1 ]; then
    COMPREPLY=($(compgen -W "${top}" -- "$cur"))
    return
  fi
  case "\${COMP_WORDS[1]}" in
${cases}
    *) COMPREPLY=() ;;
  esac
}
complete -o default -F _sprite sprite
`;
  }
  if (shell === 'zsh') {
    const cases = subs.map(([name, list]) => `    ${name}) compadd ${list} ;;`).join('\n');
    return `#compdef sprite
# sprite completion for zsh: source <(sprite completion zsh)
_sprite() {
  if (( CURRENT == 2 )); then
    compadd ${top}
    return
  fi
  case "$words[2]" in
${cases}
  esac
}
compdef _sprite sprite
`;
  }
  if (shell === 'fish') {
    const lines = [
      `# sprite completion for fish: sprite completion fish | source`,
      `complete -c sprite -f -n "__fish_use_subcommand" -a "${top}"`,
    ];
    for (const [name, list] of subs)
      lines.push(`complete -c sprite -f -n "__fish_seen_subcommand_from ${name}" -a "${list}"`);
    return `${lines.join('\n')}\n`;
  }
  return null;
}
