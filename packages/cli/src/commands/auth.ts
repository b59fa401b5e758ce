import { createInterface } from 'node:readline/promises';
import { SpritesClient } from '@sprites/sdk';
import { flag, str, UsageError, type Parsed } from '../args.js';
import type { Command } from '../command.js';
import { readConfig, writeConfig } from '../config.js';
import { note, printJson, printTable } from '../output.js';
import { discoverLocal, localDataDir } from '../target.js';

/** Checks the credentials with one call and returns the organization they belong to. */
async function verify(url: string, token: string): Promise<string> {
  const client = new SpritesClient(token, { baseURL: url });
  const page = await client.listSprites({ maxResults: 1 });
  return page.organizationName ?? page.sprites[0]?.organizationName ?? 'default';
}

async function save(p: Parsed, url: string, token: string): Promise<number> {
  const orgFromServer = await verify(url, token);
  const org = str(p, 'org') ?? orgFromServer;
  const config = readConfig();
  config.orgs[org] = { url: url.replace(/\/+$/, ''), token };
  config.current = org;
  const path = writeConfig(config);
  note(`Logged in to ${url} as organization ${org} (saved in ${path}, readable only by you)`);
  return 0;
}

const login: Command = {
  name: 'login',
  summary: 'Store an API URL and token (checked first) for an organization',
  usage: 'login [API_URL] [--token TOKEN] [-o ORG]',
  examples: ['sprite login http://10.0.0.5:7070 --token spr_...', 'sprite login   (asks for the token on a terminal)'],
  async run(p) {
    const url = p.positionals[0] ?? str(p, 'api-url') ?? process.env.SPRITES_API_URL ?? discoverLocal()?.url;
    if (!url) throw new UsageError('which API? sprite login http://HOST:7070 --token TOKEN');
    let token = str(p, 'token') ?? process.env.SPRITE_TOKEN;
    if (!token) {
      if (!process.stdin.isTTY) throw new UsageError('no token: pass --token TOKEN (or set SPRITE_TOKEN)');
      const rl = createInterface({ input: process.stdin, output: process.stderr });
      token = (await rl.question(`Token for ${url}: `)).trim();
      rl.close();
    }
    if (!token) throw new UsageError('an empty token');
    return save(p, url, token);
  },
};

const logout: Command = {
  name: 'logout',
  summary: "Forget an organization's credentials (the current one by default)",
  usage: 'logout [-o ORG]',
  examples: ['sprite logout -o team-a'],
  run(p) {
    const config = readConfig();
    const org = str(p, 'org') ?? config.current;
    if (!org || !config.orgs[org]) throw new UsageError(`not logged in${org ? ` to ${org}` : ''}`);
    delete config.orgs[org];
    if (config.current === org) config.current = Object.keys(config.orgs)[0];
    writeConfig(config);
    note(`Logged out of ${org}`);
    return 0;
  },
};

const setup: Command = {
  name: 'setup',
  summary: 'Store credentials without prompts (for CI)',
  usage: 'auth setup --token TOKEN [--api-url URL] [-o ORG]',
  examples: [
    'sprite auth setup --token "$SPRITE_TOKEN" --api-url http://10.0.0.5:7070',
    'sprite auth setup --token team-a/1/2/spr_...',
  ],
  async run(p) {
    let token = str(p, 'token');
    if (!token) throw new UsageError('sprite auth setup needs --token');
    // The hosted CLI's form is org/id/token-id/value: take the org and the value.
    const parts = token.split('/');
    if (parts.length >= 2) {
      p.options.org ??= parts[0]!;
      token = parts.at(-1)!;
    }
    const url = str(p, 'api-url') ?? process.env.SPRITES_API_URL ?? discoverLocal()?.url;
    if (!url) throw new UsageError('which API? pass --api-url URL');
    return save(p, url, token);
  },
};

const auth: Command = {
  name: 'auth',
  summary: 'Credentials for scripts and CI',
  usage: 'auth setup --token TOKEN',
  subcommands: [setup],
};

const orgList: Command = {
  name: 'list',
  aliases: ['ls'],
  summary: 'List the organizations you can use',
  usage: 'org list [--json]',
  examples: ['sprite org list'],
  run(p) {
    const config = readConfig();
    const rows = Object.entries(config.orgs).map(([name, e]) => ({
      name,
      url: e.url,
      current: name === config.current,
      source: 'config',
    }));
    const local = discoverLocal();
    if (local)
      rows.push({
        name: '(local daemon)',
        url: local.url,
        current: rows.length === 0,
        source: `${localDataDir()}/admin.token`,
      });
    if (flag(p, 'json')) printJson(rows);
    else if (rows.length === 0) note('No organizations. Run `sprite login URL --token TOKEN`.');
    else
      printTable(
        ['', 'ORGANIZATION', 'API', 'FROM'],
        rows.map((r) => [r.current ? '*' : ' ', r.name, r.url, r.source]),
      );
    return 0;
  },
};

const org: Command = {
  name: 'org',
  summary: 'Organizations and their credentials',
  usage: 'org list',
  subcommands: [orgList, { ...logout, usage: 'org logout [-o ORG]' }],
};

export const authCommands: Command[] = [login, logout, auth, org];
