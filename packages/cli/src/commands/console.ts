import type { Cmd, Sprite } from '@sprites/sdk';
import { flag, str, UsageError } from '../args.js';
import type { Command } from '../command.js';
import { ago, io, note, printJson, printTable } from '../output.js';
import { spriteOf } from '../target.js';
import { interactive, terminalEnv, terminalSize } from '../terminal.js';

/** The user's login shell, as the passwd database has it (bash when that fails). */
const LOGIN_SHELL = 'shell=$(getent passwd "$(id -un)" | cut -d: -f7); exec "${shell:-/bin/bash}" -l';

function requireTerminal(what: string): void {
  if (!process.stdin.isTTY || !process.stdout.isTTY)
    throw new UsageError(`${what} needs a terminal; use \`sprite exec\` in scripts`);
}

/** An interactive login shell in a detachable session; returns the exit status. */
export async function runConsole(sprite: Sprite): Promise<number> {
  requireTerminal('sprite console');
  const cmd = sprite.command('sh', ['-c', LOGIN_SHELL], {
    tty: true,
    detachable: true,
    ...terminalSize(),
    env: terminalEnv(),
    stdin: 'pipe',
  });
  note(`Connected to ${sprite.name}. Ctrl-\\ detaches, leaving the session running.`);
  return detachable(cmd);
}

/** Runs a session on this terminal until it ends (its exit status) or Ctrl-\ detaches (0). */
async function detachable(cmd: Cmd): Promise<number> {
  const result = await interactive(cmd, { detachable: true });
  if (result.detached) {
    process.stderr.write(
      `\r\nDetached; the session keeps running. Resume it with: sprite attach ${cmd.sessionId ?? '<id>'}\r\n`,
    );
    return 0;
  }
  return result.code ?? 0;
}

/** Attaches the terminal to a session: scrollback first, then live; Ctrl-\ detaches. */
async function runAttach(sprite: Sprite, id: string): Promise<number> {
  requireTerminal('sprite attach');
  return detachable(sprite.attachSession(id, terminalSize()));
}

const consoleCmd: Command = {
  name: 'console',
  aliases: ['c'],
  summary: 'Open an interactive login shell in a sprite (Ctrl-\\ detaches)',
  usage: 'console [NAME]',
  examples: ['sprite console -s demo', 'sprite c'],
  async run(p) {
    const { sprite } = spriteOf(p, p.positionals[0]);
    return runConsole(sprite);
  },
};

const attachOptions = [
  { name: 'session', value: true, placeholder: 'ID', help: 'the session id (or give it as the argument)' },
];

const attach: Command = {
  name: 'attach',
  summary: 'Attach the terminal to a running session (Ctrl-\\ detaches)',
  usage: 'attach ID',
  options: attachOptions,
  examples: ['sprite attach 1234 -s demo'],
  async run(p) {
    const id = p.positionals[0] ?? str(p, 'session');
    if (!id) throw new UsageError('which session? sprite attach ID (see `sprite sessions list`)');
    const { sprite } = spriteOf(p);
    return runAttach(sprite, id);
  },
};

const sessionsList: Command = {
  name: 'list',
  aliases: ['ls'],
  summary: 'List the sessions of a sprite',
  usage: 'sessions list [--json]',
  examples: ['sprite sessions list -s demo', 'sprite s ls --json'],
  async run(p) {
    const { sprite } = spriteOf(p);
    const sessions = await sprite.listSessions();
    if (flag(p, 'json')) {
      printJson(
        sessions.map((s) => ({
          id: s.id,
          command: s.command,
          workdir: s.workdir,
          tty: s.tty,
          is_active: s.isActive,
          created: s.created.toISOString(),
          last_activity: s.lastActivity?.toISOString() ?? null,
        })),
      );
      return 0;
    }
    if (sessions.length === 0) {
      note(`No sessions on ${sprite.name}.`);
      return 0;
    }
    printTable(
      ['ID', 'COMMAND', 'TTY', 'ACTIVE', 'CREATED'],
      sessions.map((s) => [s.id, s.command, s.tty ? 'yes' : 'no', s.isActive ? 'yes' : 'no', ago(s.created)]),
    );
    return 0;
  },
};

const sessionsAttach: Command = { ...attach, usage: 'sessions attach ID' };

const sessionsKill: Command = {
  name: 'kill',
  summary: "Signal a session's process (TERM, then KILL after the grace period)",
  usage: 'sessions kill ID [--signal SIG] [--timeout DURATION]',
  options: [
    { name: 'signal', value: true, placeholder: 'SIG', help: 'signal name (default TERM)' },
    {
      name: 'timeout',
      value: true,
      placeholder: 'DURATION',
      help: 'wait this long (e.g. 5s) before SIGKILL (default 10s)',
    },
  ],
  examples: ['sprite sessions kill 1234 -s demo', 'sprite s kill 1234 --signal INT --timeout 2s'],
  async run(p) {
    const id = p.positionals[0];
    if (!id) throw new UsageError('which session? sprite sessions kill ID');
    const { sprite } = spriteOf(p);
    const events = await sprite.killSession(id, str(p, 'signal') ?? 'TERM', str(p, 'timeout'));
    let code = 0;
    for await (const e of events) {
      if (flag(p, 'json')) io.stdout.write(`${JSON.stringify(e)}\n`);
      else if (e.type === 'complete') note(`Session ${id} ended (exit code ${e.exitCode ?? '?'})`);
      else if (e.message) note(e.message);
      if (e.type === 'error') code = 1;
    }
    return code;
  },
};

const sessions: Command = {
  name: 'sessions',
  aliases: ['s'],
  summary: 'List, attach to and kill sessions',
  usage: 'sessions list|attach|kill',
  subcommands: [sessionsList, sessionsAttach, sessionsKill],
  examples: ['sprite sessions list', 'sprite sessions attach 1234', 'sprite s kill 1234'],
};

export const consoleCommands: Command[] = [consoleCmd, attach, sessions];
