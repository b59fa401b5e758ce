import type { ServiceLogStream, ServiceWithState } from '@sprites/sdk';
import { flag, int, list, str, UsageError } from '../args.js';
import type { Command } from '../command.js';
import { ago, io, note, printJson, printTable } from '../output.js';
import { spriteOf } from '../target.js';
import { parseEnv } from './exec.js';

function serviceJson(s: ServiceWithState): Record<string, unknown> {
  return {
    name: s.name,
    cmd: s.cmd,
    args: s.args,
    env: s.env ?? {},
    dir: s.dir ?? null,
    needs: s.needs,
    http_port: s.httpPort ?? null,
    state: s.state
      ? {
          status: s.state.status,
          pid: s.state.pid ?? null,
          started_at: s.state.startedAt?.toISOString() ?? null,
          error: s.state.error ?? null,
          restart_count: s.state.restartCount ?? 0,
          next_restart_at: s.state.nextRestartAt?.toISOString() ?? null,
        }
      : null,
  };
}

/** Prints a service stream: output lines to stdout, the rest as notes (or JSON lines). */
async function follow(stream: ServiceLogStream, json: boolean): Promise<number> {
  let code = 0;
  for await (const e of stream) {
    if (json) io.stdout.write(`${JSON.stringify(e)}\n`);
    else if (e.type === 'stdout') io.stdout.write(`${e.data ?? ''}\n`);
    else if (e.type === 'stderr') io.stderr.write(`${e.data ?? ''}\n`);
    else if (e.type === 'exit') note(`[exited with code ${e.exitCode ?? '?'}]`);
    else if (e.type === 'error') {
      note(`error: ${e.data ?? ''}`);
      code = 1;
    } else if (e.type !== 'complete') note(`[${e.type}${e.data ? ` ${e.data}` : ''}]`);
  }
  return code;
}

/** A field of `services get`: strings as they are, everything else as JSON (`null`, `[]`, `{…}`). */
function fieldText(v: unknown): string {
  return typeof v === 'string' ? v : (JSON.stringify(v) ?? 'undefined');
}

function nameOf(positionals: string[], what: string): string {
  const name = positionals[0];
  if (!name) throw new UsageError(`which service? sprite services ${what} NAME`);
  return name;
}

const durationOption = {
  name: 'duration',
  value: true,
  placeholder: 'D',
  help: 'follow the output this long (default 5s; 0 returns at once)',
};

const listCmd: Command = {
  name: 'list',
  aliases: ['ls'],
  summary: 'List services with their state',
  usage: 'services list [--json]',
  examples: ['sprite services ls -s demo'],
  async run(p) {
    const { sprite } = spriteOf(p);
    const services = await sprite.listServices();
    if (flag(p, 'json')) printJson(services.map(serviceJson));
    else if (services.length === 0)
      note(`No services on ${sprite.name}. Create one with \`sprite services create NAME --cmd ...\`.`);
    else
      printTable(
        ['NAME', 'STATUS', 'PID', 'RESTARTS', 'STARTED', 'HTTP', 'COMMAND'],
        services.map((s) => [
          s.name,
          s.state?.status,
          s.state?.pid,
          s.state?.restartCount ?? 0,
          ago(s.state?.startedAt),
          s.httpPort,
          [s.cmd, ...s.args].join(' '),
        ]),
      );
    return 0;
  },
};

const get: Command = {
  name: 'get',
  aliases: ['info'],
  summary: "Show a service's definition and state",
  usage: 'services get NAME [--json]',
  examples: ['sprite services get web -s demo --json'],
  async run(p) {
    const { sprite } = spriteOf(p);
    const s = await sprite.getService(nameOf(p.positionals, 'get'));
    if (flag(p, 'json')) printJson(serviceJson(s));
    else
      io.stdout.write(
        `${Object.entries(serviceJson(s))
          .map(([k, v]) => `${`${k}:`.padEnd(10)} ${fieldText(v)}`)
          .join('\n')}\n`,
      );
    return 0;
  },
};

const create: Command = {
  name: 'create',
  summary: 'Create or replace a service and start it (the platform keeps it running)',
  usage:
    'services create NAME --cmd PROGRAM [--args a,b] [--env K=V,...] [--dir D] [--needs s1,s2] [--http-port N] [--duration D]',
  options: [
    { name: 'cmd', value: true, placeholder: 'PROGRAM', help: 'the program to run' },
    {
      name: 'args',
      value: true,
      multiple: true,
      placeholder: 'A,B',
      help: 'arguments (comma-separated, or repeat the option)',
    },
    { name: 'env', short: 'e', value: true, multiple: true, placeholder: 'K=V,...', help: 'environment variables' },
    { name: 'dir', value: true, placeholder: 'DIR', help: 'working directory' },
    { name: 'needs', value: true, multiple: true, placeholder: 'S1,S2', help: 'services started before this one' },
    { name: 'http-port', value: true, placeholder: 'PORT', help: 'the port the sprite URL routes to' },
    durationOption,
  ],
  examples: [
    'sprite services create web --cmd python3 --args -m,http.server,8080 --http-port 8080',
    'sprite services create worker --cmd node --args worker.js --needs db --env QUEUE=jobs',
  ],
  async run(p) {
    const name = nameOf(p.positionals, 'create');
    const cmd = str(p, 'cmd');
    if (!cmd) throw new UsageError('--cmd is required: the program the service runs');
    const split = (values: string[]) => values.flatMap((v) => v.split(',')).filter((v) => v !== '');
    const { sprite } = spriteOf(p);
    const stream = await sprite.createService(
      name,
      {
        cmd,
        args: split(list(p, 'args')),
        env: parseEnv(list(p, 'env')),
        dir: str(p, 'dir'),
        needs: split(list(p, 'needs')),
        httpPort: int(p, 'http-port'),
      },
      str(p, 'duration'),
    );
    return follow(stream, flag(p, 'json'));
  },
};

function action(name: 'start' | 'stop' | 'restart', summary: string): Command {
  const stop = name === 'stop';
  return {
    name,
    summary,
    usage: `services ${name} NAME ${stop ? '[--timeout D]' : '[--duration D]'}`,
    options: [
      stop
        ? { name: 'timeout', value: true, placeholder: 'D', help: 'grace period before SIGKILL (default 10s)' }
        : durationOption,
    ],
    examples: [`sprite services ${name} web -s demo`],
    async run(p) {
      const { sprite } = spriteOf(p);
      const svc = nameOf(p.positionals, name);
      const stream = stop
        ? await sprite.stopService(svc, str(p, 'timeout'))
        : name === 'start'
          ? await sprite.startService(svc, str(p, 'duration'))
          : await sprite.restartService(svc, str(p, 'duration'));
      return follow(stream, flag(p, 'json'));
    },
  };
}

const remove: Command = {
  name: 'delete',
  aliases: ['rm'],
  summary: 'Stop and delete a service (its log stays)',
  usage: 'services delete NAME',
  examples: ['sprite services rm web -s demo'],
  async run(p) {
    const { sprite } = spriteOf(p);
    const name = nameOf(p.positionals, 'delete');
    await sprite.deleteService(name);
    note(`Deleted service ${name}`);
    return 0;
  },
};

const signal: Command = {
  name: 'signal',
  summary: "Send a signal to a service's process",
  usage: 'services signal NAME SIGNAL',
  examples: ['sprite services signal web HUP -s demo'],
  async run(p) {
    const { sprite } = spriteOf(p);
    const name = nameOf(p.positionals, 'signal');
    const sig = p.positionals[1];
    if (!sig) throw new UsageError('which signal? sprite services signal NAME HUP');
    await sprite.signalService(name, sig);
    return 0;
  },
};

const logs: Command = {
  name: 'logs',
  summary: "Show a service's log (and follow it with --duration)",
  usage: 'services logs NAME [--lines N] [--duration D]',
  options: [
    { name: 'lines', short: 'n', value: true, placeholder: 'N', help: 'how many past lines (default 100)' },
    { name: 'duration', value: true, placeholder: 'D', help: 'then follow new output this long (e.g. 30s)' },
  ],
  examples: ['sprite services logs web -n 20', 'sprite services logs web --duration 1m'],
  async run(p) {
    const { sprite } = spriteOf(p);
    return follow(
      await sprite.getServiceLogs(nameOf(p.positionals, 'logs'), {
        lines: int(p, 'lines'),
        duration: str(p, 'duration'),
      }),
      flag(p, 'json'),
    );
  },
};

const services: Command = {
  name: 'services',
  aliases: ['service', 'svc'],
  summary: 'Long-running processes the sprite keeps alive (restarts, logs, the URL)',
  usage: 'services list|get|create|start|stop|restart|delete|signal|logs',
  subcommands: [
    listCmd,
    get,
    create,
    action('start', 'Start a service (and what it needs)'),
    action('stop', 'Stop a service; it stays stopped until started'),
    action('restart', 'Stop and start a service'),
    remove,
    signal,
    logs,
  ],
  examples: [
    'sprite services create web --cmd python3 --args -m,http.server,8080 --http-port 8080',
    'sprite services ls',
  ],
};

export const serviceCommands: Command[] = [services];
