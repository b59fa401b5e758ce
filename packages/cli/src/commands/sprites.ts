import { createInterface } from 'node:readline/promises';
import type { Sprite } from '@sprites/sdk';
import { flag, int, list, str, UsageError } from '../args.js';
import type { Command } from '../command.js';
import { writeSpriteFile } from '../config.js';
import { ago, io, note, printJson, printTable } from '../output.js';
import { resolveSpriteName, resolveTarget, spriteOf } from '../target.js';
import { runConsole } from './console.js';

/** What `--json` prints for a sprite. */
export function spriteJson(s: Sprite): Record<string, unknown> {
  return {
    id: s.id,
    name: s.name,
    organization: s.organizationName,
    status: s.status,
    config: s.config,
    environment: s.environment,
    url: s.url,
    url_settings: s.urlSettings,
    labels: s.labels,
    created_at: s.createdAt?.toISOString(),
    updated_at: s.updatedAt?.toISOString(),
    last_running_at: s.lastRunningAt?.toISOString() ?? null,
    last_warming_at: s.lastWarmingAt?.toISOString() ?? null,
  };
}

async function confirm(question: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^y(es)?$/i.test((await rl.question(question)).trim());
  } finally {
    rl.close();
  }
}

const create: Command = {
  name: 'create',
  summary: 'Create a sprite and open a console in it',
  usage: 'create [NAME] [--skip-console] [--label L]... [--ram MB] [--cpus N] [--storage GB]',
  options: [
    { name: 'skip-console', help: 'do not open a console afterwards (also when not on a terminal)' },
    { name: 'label', value: true, multiple: true, placeholder: 'LABEL', help: 'a label for the sprite' },
    { name: 'ram', value: true, placeholder: 'MB', help: 'memory in MB' },
    { name: 'cpus', value: true, placeholder: 'N', help: 'CPUs' },
    { name: 'storage', value: true, placeholder: 'GB', help: 'disk size in GB' },
  ],
  examples: ['sprite create demo', 'sprite create ci-runner --skip-console --label ci --ram 2048'],
  async run(p) {
    const target = resolveTarget(p);
    const name = p.positionals[0] ?? str(p, 'sprite');
    if (!name) throw new UsageError('give the new sprite a name: sprite create NAME');
    const config = { ramMB: int(p, 'ram'), cpus: int(p, 'cpus'), storageGB: int(p, 'storage') };
    for (const k of Object.keys(config) as (keyof typeof config)[]) if (config[k] === undefined) delete config[k];
    const labels = list(p, 'label');
    const sprite = await target.client.createSprite(name, { config, ...(labels.length ? { labels } : {}) });
    if (flag(p, 'json')) printJson(spriteJson(sprite));
    else note(`Created sprite ${sprite.name} (${sprite.status})`);
    const interactive = process.stdin.isTTY && process.stdout.isTTY;
    if (flag(p, 'skip-console') || flag(p, 'json') || !interactive) return 0;
    return runConsole(sprite);
  },
};

const listCmd: Command = {
  name: 'list',
  aliases: ['ls'],
  summary: 'List sprites',
  usage: 'list [--prefix P] [-w|--watch] [--json]',
  options: [
    { name: 'prefix', value: true, placeholder: 'P', help: 'only names starting with P' },
    { name: 'watch', short: 'w', help: 'refresh every 2 s until Ctrl-C' },
  ],
  examples: ['sprite ls', 'sprite list --prefix ci- --json', 'sprite ls -w'],
  async run(p) {
    const { client } = resolveTarget(p);
    const show = async () => {
      const sprites = await client.listAllSprites(str(p, 'prefix'));
      if (flag(p, 'json')) return printJson(sprites.map(spriteJson));
      if (sprites.length === 0) return note('No sprites. Create one with `sprite create NAME`.');
      printTable(
        ['NAME', 'STATUS', 'CREATED', 'LAST RUNNING', 'LABELS'],
        sprites.map((s) => [
          s.name,
          s.status,
          ago(s.createdAt),
          s.status === 'running' ? 'now' : ago(s.lastRunningAt),
          s.labels.join(','),
        ]),
      );
    };
    if (!flag(p, 'watch')) {
      await show();
      return 0;
    }
    for (;;) {
      if (process.stdout.isTTY) process.stdout.write('\x1b[H\x1b[2J');
      await show();
      await new Promise((r) => setTimeout(r, 2000));
    }
  },
};

const info: Command = {
  name: 'info',
  summary: "Show a sprite's details",
  usage: 'info [NAME] [--json]',
  examples: ['sprite info demo', 'sprite info -s demo --json'],
  async run(p) {
    const { client } = resolveTarget(p);
    const s = await client.getSprite(resolveSpriteName(p, p.positionals[0]));
    if (flag(p, 'json')) {
      printJson(spriteJson(s));
      return 0;
    }
    const rows: [string, string][] = [
      ['Name', s.name],
      ['ID', s.id],
      ['Organization', s.organizationName],
      ['Status', s.status],
      ['Memory', `${s.config?.ramMB ?? '-'} MB`],
      ['CPUs', String(s.config?.cpus ?? '-')],
      ['Disk', `${s.config?.storageGB ?? '-'} GB`],
      ['URL', `${s.url ?? '-'} (auth: ${s.urlSettings?.auth ?? 'sprite'})`],
      ['Labels', s.labels.join(', ') || '-'],
      ['Created', `${s.createdAt?.toISOString() ?? '-'} (${ago(s.createdAt)})`],
      ['Last running', s.status === 'running' ? 'now' : ago(s.lastRunningAt)],
    ];
    for (const [k, v] of rows) io.stdout.write(`${`${k}:`.padEnd(14)} ${v}\n`);
    return 0;
  },
};

const destroy: Command = {
  name: 'destroy',
  summary: 'Delete a sprite, its disk and its checkpoints (asks first on a terminal)',
  usage: 'destroy [NAME] [--force]',
  options: [{ name: 'force', short: 'f', help: 'do not ask' }],
  examples: ['sprite destroy demo', 'sprite destroy -s demo --force'],
  async run(p) {
    const { sprite } = spriteOf(p, p.positionals[0]);
    if (!flag(p, 'force') && process.stdin.isTTY) {
      if (
        !(await confirm(`Destroy sprite ${sprite.name}, its disk and its checkpoints? This cannot be undone. [y/N] `))
      ) {
        note('Not destroyed.');
        return 1;
      }
    }
    await sprite.delete();
    note(`Destroyed sprite ${sprite.name}`);
    return 0;
  },
};

const upgrade: Command = {
  name: 'upgrade',
  summary: 'Restart a sprite on the platform version the server runs now',
  usage: 'upgrade [NAME]',
  examples: ['sprite upgrade demo'],
  async run(p) {
    const { sprite } = spriteOf(p, p.positionals[0]);
    await sprite.upgrade();
    note(`Upgraded sprite ${sprite.name}`);
    return 0;
  },
};

const urlUpdate: Command = {
  name: 'update',
  summary: "Change who may open the sprite's URL",
  usage: 'url update --auth public|sprite [NAME]',
  options: [
    {
      name: 'auth',
      value: true,
      placeholder: 'MODE',
      help: "`public` (anyone) or `sprite` (the organization's token)",
    },
  ],
  examples: ['sprite url update --auth public -s demo'],
  async run(p) {
    const auth = str(p, 'auth');
    if (auth !== 'public' && auth !== 'sprite') throw new UsageError('--auth must be `public` or `sprite`');
    const { sprite } = spriteOf(p, p.positionals[0]);
    await sprite.updateURLSettings({ auth });
    note(`URL of ${sprite.name} is now ${auth === 'public' ? 'public' : 'for the organization only'}`);
    return 0;
  },
};

const url: Command = {
  name: 'url',
  summary: "Show a sprite's URL (and `url update` to change its access)",
  usage: 'url [NAME] | url update --auth public|sprite',
  subcommands: [urlUpdate],
  examples: ['sprite url -s demo', 'sprite url update --auth public'],
  async run(p) {
    const { client } = resolveTarget(p);
    const s = await client.getSprite(resolveSpriteName(p, p.positionals[0]));
    if (flag(p, 'json')) printJson({ url: s.url, auth: s.urlSettings?.auth ?? 'sprite' });
    else io.stdout.write(`${s.url ?? ''}\n`);
    return 0;
  },
};

const use: Command = {
  name: 'use',
  summary: 'Make a sprite the default in this directory (writes a .sprite file)',
  usage: 'use NAME',
  examples: ['sprite use demo && sprite exec -- ls'],
  async run(p) {
    const name = p.positionals[0];
    if (!name) throw new UsageError('which sprite? sprite use NAME');
    const target = resolveTarget(p);
    await target.client.getSprite(name);
    const path = writeSpriteFile(process.cwd(), { ...(target.org ? { organization: target.org } : {}), sprite: name });
    note(`Using sprite ${name} here (${path})`);
    return 0;
  },
};

export const spriteCommands: Command[] = [create, listCmd, info, destroy, upgrade, url, use];
